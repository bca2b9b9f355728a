import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setup } from "../../src/cli/common.ts";
import { runInteractive, type Prompter } from "../../src/cli/interactive.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { startTerminal, type Terminal } from "../support/tmux.ts";

/** Answers prompts from a script and records what was asked. */
function scripted(answers: (string | boolean)[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (m: string) => {
    asked.push(m);
    if (answers.length === 0) throw new Error(`unexpected prompt: ${m}`);
    return answers.shift()!;
  };
  return {
    asked,
    select: async (m) => String(next(m)),
    text: async (m) => String(next(m)),
    confirm: async (m) => Boolean(next(m)),
  };
}

async function captureStdout(fn: () => Promise<void>): Promise<string> {
  const original = process.stdout.write.bind(process.stdout);
  let out = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return out;
}

describe("interactive session on a real registry", () => {
  const reg = useRegistry();
  let arm: PushedImage;
  let cwd: string;
  const oldCwd = process.cwd();
  beforeAll(async () => {
    const amd = await pushImage(reg, "int/app", "amd", { layers: [{ bytes: layerFrom([{ path: "amd.txt", content: "amd" }]) }] });
    arm = await pushImage(reg, "int/app", "arm", {
      layers: [{ bytes: layerFrom([{ path: "etc/arm-release", content: "arm" }]) }, { bytes: layerFrom([{ path: "app/bin", content: "bin" }]) }],
      history: [{ created_by: "ADD arm.tar /" }, { created_by: "ENV A=1", empty_layer: true }, { created_by: "COPY app /app" }],
      platform: { os: "linux", architecture: "arm64" },
    });
    await pushIndex(reg, "int/app", "v1", [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64" } },
    ]);
    cwd = mkdtempSync(join(tmpdir(), "ls-int-"));
    process.chdir(cwd);
  });
  afterAll(async () => {
    process.chdir(oldCwd);
    rmSync(cwd, { recursive: true, force: true });
  });

  test("platform, steps, layer choice with a bad answer first, peek, save one layer", async () => {
    const { source, ctx } = await setup({ image: `${reg.host}/int/app:v1`, quiet: true });
    const p = scripted(["linux/arm64", "7", "1", true]);
    const out = await captureStdout(() => runInteractive(ctx, source, p));
    expect(p.asked).toEqual([
      "Platform",
      "Layers to peek (0-1, e.g. 0,2 or 1-3, or ALL)",
      "Layers to peek (0-1, e.g. 0,2 or 1-3, or ALL)",
      expect.stringMatching(/^Download layer 1 \(\d+\)\?$/) as unknown as string,
    ]);
    expect(out).toContain("  [1] ENV A=1 (metadata only)");
    expect(out).toContain("  [2] COPY app /app (layer 1,");
    expect(out).toContain(`── layer 1/1 ${arm.layers[1]!.digest}`);
    expect(out).toMatch(/ app\/bin\n/);
    expect(out).not.toContain("arm-release");
    const file = join("downloads", "int_app", "v1", `${arm.layers[1]!.digest.replace(":", "_")}.tar.gz`);
    expect(out).toContain(`saved ${file}`);
    expect(new Uint8Array(readFileSync(join(cwd, file)))).toEqual(new Uint8Array(arm.layers[1]!.bytes));
  });

  test("ALL peeks every layer; declining saves nothing", async () => {
    const { source, ctx } = await setup({ image: `${reg.host}/int/app:arm`, quiet: true });
    const p = scripted(["", false, false]);
    const out = await captureStdout(() => runInteractive(ctx, source, p));
    expect(p.asked.length).toBe(3); // no platform question for a single image
    expect(out.match(/^── layer /gm)?.length).toBe(2);
    expect(existsSync(join(cwd, "downloads", "int_app", "arm"))).toBe(false);
  });

  test("refuses politely without a terminal", async () => {
    const r = await runCli(["interactive", `${reg.host}/int/app:v1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("layerslayer: interactive needs a terminal; for scripts use inspect, peek and save\n");
    const bare = await runCli([`${reg.host}/int/app:v1`]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`to explore an image on a terminal: layerslayer interactive ${reg.host}/int/app:v1`);
  });

  /** The CLI in a real terminal (tmux) of the given height; keys are sent, the screen is read. */
  async function onTerminal(args: string, body: (t: Terminal) => Promise<void>, opts: { rows?: number; env?: string } = {}) {
    const cmd = `cd ${cwd} && HOME=${cwd} XDG_CACHE_HOME=${cwd}/cache ${opts.env ?? ""} ${process.execPath} ${join(oldCwd, "src/cli/main.ts")} ${args}; echo EXIT=$?; sleep 30`;
    const term = startTerminal(["env", "-u", "PAGER", "sh", "-c", cmd], { height: opts.rows ?? 50 });
    try {
      await body(term);
    } finally {
      term.kill();
    }
  }

  test("on a real terminal (tmux): typed answers, arrow keys and Enter drive the prompts; answered prompts leave one line each", async () => {
    await onTerminal(`interactive ${reg.host}/int/app:v1`, async ({ keys, screen, waitFor }) => {
      await waitFor(/Platform/);
      // The host's platform is preselected; Down moves to the other one of the two.
      keys("Down", "Enter");
      await waitFor(/Layers to peek/);
      keys("0", "Enter");
      await waitFor(/Download layer 0/);
      keys("Left", "Enter"); // move to Yes, confirm
      await waitFor(/EXIT=\d+/);
      const s = screen();
      expect(s).toContain(process.arch === "arm64" ? "amd.txt" : "etc/arm-release");
      expect(s).toMatch(/saved downloads\/int_app\/v1\/sha256_[0-9a-f]{64}\.tar\.gz/);
      expect(s).not.toContain("app/bin"); // layer 1 was not asked for
      expect(s).toContain("EXIT=0");
      // No stale prompt lines: each question is on the screen once, as its answer.
      const other = process.arch === "arm64" ? "linux/amd64" : "linux/arm64";
      expect(s.match(/Platform/g)?.length).toBe(1);
      expect(s).toMatch(new RegExp(`^✔ Platform ${other}  sha256:[0-9a-f]{12}$`, "m"));
      expect(s.match(/Download layer 0/g)?.length).toBe(1);
      expect(s).toMatch(/^✔ Download layer 0 \(\d+\)\? Yes$/m);
      expect(s).not.toMatch(/^\? (Platform|Download)/m);
    });
  });

  test("a long listing is paged on a terminal: the built-in pager, or $PAGER when set", async () => {
    const files = Array.from({ length: 150 }, (_, i) => ({ path: `many/f${String(i).padStart(3, "0")}`, content: "x" }));
    await pushImage(reg, "int/many", "v1", { layers: [{ bytes: layerFrom(files) }] });
    await onTerminal(
      `interactive ${reg.host}/int/many:v1`,
      async ({ keys, screen, waitFor }) => {
        await waitFor(/Layers to peek/);
        keys("Enter");
        await waitFor(/-- more \(19\/15\d lines\) --/);
        expect(screen()).not.toContain("many/f100");
        keys("Space");
        await waitFor(/-- more \(38\/15\d lines\) --/);
        keys("Enter");
        await waitFor(/-- more \(39\/15\d lines\) --/);
        keys("q");
        await waitFor(/Download layer 0/);
        expect(screen()).not.toContain("-- more");
        expect(screen()).not.toContain("many/f149");
        keys("n");
        await waitFor(/EXIT=0/);
      },
      { rows: 20 },
    );
    const paged = join(cwd, "paged.txt");
    await onTerminal(
      `interactive ${reg.host}/int/many:v1`,
      async ({ keys, screen, waitFor }) => {
        await waitFor(/Layers to peek/);
        keys("Enter");
        await waitFor(/Download layer 0/);
        expect(screen()).not.toContain("many/f000");
        keys("n");
        await waitFor(/EXIT=0/);
      },
      { rows: 20, env: `PAGER='cat > ${paged}'` },
    );
    const text = readFileSync(paged, "utf8");
    expect(text).toContain("many/f000");
    expect(text).toContain("many/f149");
    expect(text).toMatch(/complete( \(from the cache\))?\n$/);
  });
});
