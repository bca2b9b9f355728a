import { afterAll, beforeAll, expect, test } from "bun:test";
import { mergedTree, peekLayer, readFile } from "../src/index.ts";
import { layerFrom, pushImage } from "./support/fixtures.ts";
import { startRegistry, type TestRegistry } from "./support/registry.ts";

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
  await pushImage(reg, "lib/app", "v1", {
    layers: [
      { bytes: layerFrom([{ path: "etc/os-release", content: "ID=lib\n" }, { path: "etc/hosts", content: "127.0.0.1 localhost\n" }]) },
      { bytes: layerFrom([{ path: "etc/.wh.hosts", content: "" }, { path: "app/run", content: "run" }]) },
    ],
  });
});
afterAll(() => reg.stop());

test("peekLayer yields entries and returns exact stats", async () => {
  const gen = peekLayer(`${reg.host}/lib/app:v1`, 0);
  const paths: string[] = [];
  let next = await gen.next();
  while (!next.done) {
    paths.push(next.value.path);
    next = await gen.next();
  }
  expect(paths).toEqual([".", "etc", "etc/hosts", "etc/os-release"]);
  expect(next.value.complete).toBe(true);
  expect(next.value.bytesDownloaded).toBe(next.value.layerSize);
});

test("peekLayer with a budget stops at it", async () => {
  const gen = peekLayer(`${reg.host}/lib/app:v1`, -1, { budget: 50 });
  let next = await gen.next();
  while (!next.done) next = await gen.next();
  expect(next.value.bytesDownloaded).toBe(50);
  expect(next.value.complete).toBe(false);
});

test("mergedTree applies whiteouts; readFile returns the bytes", async () => {
  const tree = await mergedTree(`${reg.host}/lib/app:v1`);
  expect(tree.has("etc/hosts")).toBe(false);
  expect(tree.get("app/run")?.layer).toBe(1);
  const { bytes, result } = await readFile(`${reg.host}/lib/app:v1`, "/etc/os-release");
  expect(new TextDecoder().decode(bytes)).toBe("ID=lib\n");
  expect(result.layer).toBe(0);
});
