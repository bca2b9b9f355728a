import { randomBytes } from "node:crypto";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import type { TestRegistry } from "../support/registry.ts";

/** A base layer shared by three images, plus an upper layer per image that changes it differently. */
export const BASE = layerFrom([
  { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
  { path: "etc/shadow", content: "root:*:19000:0:99999:7:::\n", mode: 0o640 },
  { path: "root/.ssh/id_rsa", content: "-----BEGIN OPENSSH PRIVATE KEY-----\n", mode: 0o600 },
  { path: "opt/app/config/a.conf", content: "a=1" },
  { path: "usr/bin/tool", content: "#!/bin/sh\n", mode: 0o755 },
  { path: "usr/bin/tool-link", symlink: "tool" },
]);

/** Deletes the private key, adds a .env. */
export const UPPER1 = layerFrom([
  { path: "root/.ssh/.wh.id_rsa", content: "" },
  { path: "srv/app/.env", content: "SECRET=1\n" },
]);

/** Modifies the shadow file, makes /opt/app opaque (hiding a.conf) with a new file in it. */
export const UPPER2 = layerFrom(
  [
    { path: "etc/shadow", content: "root:$6$salt$hash:19000:0:99999:7:::\n", mode: 0o640 },
    { path: "opt/app/.wh..wh..opq", content: "" },
    { path: "opt/app/b.conf", content: "b=2" },
  ],
  { order: ["etc", "etc/shadow", "opt", "opt/app", "opt/app/.wh..wh..opq", "opt/app/b.conf"] },
);

/** Incompressible, so a small budget leaves it partial. */
export const BIG = layerFrom([
  { path: "data/first.bin", content: randomBytes(64 * 1024) },
  { path: "data/second.bin", content: randomBytes(64 * 1024) },
  { path: "data/zz-last-secret.pem", content: "key" },
]);

export interface ScanFixture {
  app1: PushedImage;
  app2: PushedImage;
  app3: PushedImage;
  big: PushedImage;
  refs: { app1: string; app2: string; app3: string; big: string; multi: string; missing: string };
}

export async function pushScanImages(reg: TestRegistry): Promise<ScanFixture> {
  const app1 = await pushImage(reg, "team/app1", "v1", { layers: [{ bytes: BASE }, { bytes: UPPER1 }] });
  const app2 = await pushImage(reg, "team/app2", "v1", { layers: [{ bytes: BASE }, { bytes: UPPER2 }] });
  const app3 = await pushImage(reg, "other/app3", "latest", { layers: [{ bytes: BASE }] });
  const big = await pushImage(reg, "team/big", "latest", { layers: [{ bytes: BIG }] });
  await pushImage(reg, "team/app1", "latest", { layers: [{ bytes: BASE }, { bytes: UPPER1 }] });
  const arm = await pushImage(reg, "team/multi", undefined, { layers: [{ bytes: BASE }], platform: { os: "linux", architecture: "arm64" } });
  const amd = await pushImage(reg, "team/multi", undefined, { layers: [{ bytes: BASE }, { bytes: UPPER1 }], platform: { os: "linux", architecture: "amd64" } });
  await pushIndex(reg, "team/multi", "latest", [
    { image: amd, platform: { os: "linux", architecture: "amd64" } },
    { image: arm, platform: { os: "linux", architecture: "arm64" } },
  ]);
  const h = reg.host;
  return {
    app1,
    app2,
    app3,
    big,
    refs: {
      app1: `${h}/team/app1:v1`,
      app2: `${h}/team/app2:v1`,
      app3: `${h}/other/app3:latest`,
      big: `${h}/team/big:latest`,
      multi: `${h}/team/multi:latest`,
      missing: `${h}/team/nothere:v1`,
    },
  };
}
