import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedHome, runCli } from "../support/cli.ts";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import { READER, type TestRegistry, useRegistry } from "../support/registry.ts";

interface Seeded {
  amd: PushedImage;
  arm: PushedImage;
  docker: PushedImage;
  index: { digest: string; bytes: string };
}

async function seed(reg: TestRegistry): Promise<Seeded> {
  const base = layerFrom([
    { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
    { path: "bin/sh", content: "#!fake", mode: 0o755 },
  ]);
  const app = layerFrom([{ path: "app/main.js", content: "console.log('hi')\n" }]);
  const amd = await pushImage(reg, "team/app", "amd", {
    layers: [{ bytes: base }, { bytes: app }],
    history: [
      { created_by: "/bin/sh -c #(nop) ADD file:abc in / " },
      { created_by: "/bin/sh -c #(nop)  ENV NODE_ENV=production", empty_layer: true },
      { created_by: "COPY app /app # buildkit" },
    ],
    config: {
      config: {
        Entrypoint: ["node"],
        Cmd: ["/app/main.js"],
        Env: ["NODE_ENV=production"],
        User: "1000:1000",
        WorkingDir: "/app",
        Labels: { "org.opencontainers.image.title": "app" },
        ExposedPorts: { "8080/tcp": {} },
      },
    },
  });
  const arm = await pushImage(reg, "team/app", "arm", { layers: [{ bytes: base }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
  const index = await pushIndex(
    reg,
    "team/app",
    "v1",
    [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ],
    { attestationFor: amd },
  );
  const docker = await pushImage(reg, "team/legacy", "v2", { format: "docker", layers: [{ bytes: base }] });
  return { amd, arm, docker, index };
}

for (const auth of ["none", "token", "htpasswd"] as const) {
  describe(`metadata commands on a real registry (${auth})`, () => {
    const reg = useRegistry({ auth });
    let s: Seeded;
    // Credentials by stdin for token, by environment for htpasswd.
    const cred = (): { args: string[]; stdin?: string; env?: Record<string, string> } =>
      auth === "token"
        ? { args: ["-u", READER.username, "--password-stdin"], stdin: `${READER.password}\n` }
        : auth === "htpasswd"
          ? { args: [], env: { LAYERSLAYER_USERNAME: READER.username, LAYERSLAYER_PASSWORD: READER.password } }
          : { args: [] };
    const cli = (args: string[]) => {
      const c = cred();
      return runCli([...args, ...c.args], { ...(c.stdin ? { stdin: c.stdin } : {}), ...(c.env ? { env: c.env } : {}) });
    };
    beforeAll(async () => {
      s = await seed(reg);
    });

    test("inspect shows platform, config and layers with their build steps", async () => {
      const r = await cli(["inspect", `${reg.host}/team/app:v1`, "--platform", "linux/amd64"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Digest:     ${s.amd.digest}`);
      expect(r.stdout).toContain(`Index:      ${s.index.digest}`);
      expect(r.stdout).toContain("Platform:   linux/amd64");
      expect(r.stdout).toContain('Entrypoint: ["node"]');
      expect(r.stdout).toContain("Ports:      8080/tcp");
      expect(r.stdout).toMatch(/\n +0 sha256:[0-9a-f]{12} +\d+ layer\.v1\.tar\+gzip \/bin\/sh -c #\(nop\) ADD file:abc in \/\n/);
      expect(r.stdout).toMatch(/\n +1 sha256:[0-9a-f]{12} +\d+ layer\.v1\.tar\+gzip COPY app \/app # buildkit/);
    });

    test("inspect --json is one JSON document with every layer", async () => {
      const r = await cli(["inspect", `${reg.host}/team/app:v1`, "--platform", "linux/arm64", "--json"]);
      expect(r.code).toBe(0);
      const d = JSON.parse(r.stdout);
      expect(d.digest).toBe(s.arm.digest);
      expect(d.platform).toBe("linux/arm64/v8");
      expect(d.layers).toEqual([
        {
          index: 0,
          digest: s.arm.layers[0]!.digest,
          size: s.arm.layers[0]!.size,
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          createdBy: "/bin/sh -c #(nop) ADD layer-0.tar /",
        },
      ]);
    });

    test("history lists steps with metadata-only markers and layer indexes", async () => {
      const r = await cli(["history", `${reg.host}/team/app:amd`]);
      expect(r.code).toBe(0);
      expect(r.stdout.split("\n").filter(Boolean)).toEqual([
        "[0] /bin/sh -c #(nop) ADD file:abc in / (layer 0)",
        "[1] /bin/sh -c #(nop)  ENV NODE_ENV=production (metadata only)",
        "[2] COPY app /app # buildkit (layer 1)",
      ]);
      const j = JSON.parse((await cli(["history", `${reg.host}/team/app:amd`, "--json"])).stdout);
      expect(j.steps.map((x: { layer: number | null }) => x.layer)).toEqual([0, null, 1]);
      expect(j.steps[2].digest).toBe(s.amd.layers[1]!.digest);
    });

    test("manifest and config are byte-exact; --index gives the index", async () => {
      expect((await cli(["manifest", `${reg.host}/team/app:v1`, "--platform", "linux/amd64"])).stdout).toBe(s.amd.manifest);
      expect((await cli(["manifest", `${reg.host}/team/app:v1`, "--index"])).stdout).toBe(s.index.bytes);
      expect((await cli(["config", `${reg.host}/team/legacy:v2`])).stdout).toBe(s.docker.config);
      const j = JSON.parse((await cli(["manifest", `${reg.host}/team/legacy:v2`, "--json"])).stdout);
      expect(j.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
      expect(j.digest).toBe(s.docker.digest);
      const noIndex = await cli(["manifest", `${reg.host}/team/legacy:v2`, "--index"]);
      expect(noIndex.code).toBe(2);
      expect(noIndex.stderr).toContain("names a single image, not an index");
    });

    test("platforms hides attestations unless --all", async () => {
      const r = await cli(["platforms", `${reg.host}/team/app:v1`]);
      expect(r.stdout).toContain("linux/amd64");
      expect(r.stdout).toContain("linux/arm64/v8");
      expect(r.stdout).not.toContain("unknown");
      const all = JSON.parse((await cli(["platforms", `${reg.host}/team/app:v1`, "--all", "--json"])).stdout);
      expect(all.platforms.map((p: { platform: string }) => p.platform)).toEqual(["linux/amd64", "linux/arm64/v8", "unknown/unknown"]);
      const single = JSON.parse((await cli(["platforms", `${reg.host}/team/legacy:v2`, "--json"])).stdout);
      expect(single.platforms).toEqual([
        { platform: "linux/amd64", digest: s.docker.digest, size: s.docker.size, mediaType: "application/vnd.docker.distribution.manifest.v2+json", attestation: false },
      ]);
    });

    test("tags lists every tag", async () => {
      const r = await cli(["tags", `${reg.host}/team/app`]);
      expect(r.stdout.trim().split("\n").sort()).toEqual(["amd", "arm", "v1"]);
      expect(JSON.parse((await cli(["tags", `${reg.host}/team/app`, "--json"])).stdout).tags.sort()).toEqual(["amd", "arm", "v1"]);
    });

    test("a platform that is not there lists the ones that are", async () => {
      const r = await cli(["inspect", `${reg.host}/team/app:v1`, "--platform", "windows/amd64"]);
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(`layerslayer: ${reg.host}/team/app:v1: no image for platform windows/amd64; available: linux/amd64, linux/arm64/v8\n`);
      expect(r.stdout).toBe("");
    });

    if (auth !== "none") {
      test("a wrong password exits 3 with one line and never shows the password", async () => {
        const r = await runCli(["inspect", `${reg.host}/team/app:v1`, "-u", READER.username, "--password-stdin", "--verbose"], { stdin: "hunter2-wrong\n" });
        expect(r.code).toBe(3);
        expect(r.stderr).not.toContain("hunter2-wrong");
        expect(r.stderr.split("\n").filter((l) => l.startsWith("layerslayer:")).length).toBe(1);
      });
      test("--verbose logs requests but no credentials or tokens", async () => {
        const r = await cli(["manifest", `${reg.host}/team/app:amd`, "--verbose"]);
        expect(r.code).toBe(0);
        expect(r.stderr).toContain("/v2/team/app/manifests/amd");
        expect(r.stderr).not.toContain(READER.password);
        expect(r.stderr).not.toMatch(/Bearer|Basic|eyJ/);
      });
    }
  });
}

describe("bad input", () => {
  test("a bad reference names the bad part, exit 2", async () => {
    const r = await runCli(["inspect", "Foo/Bar"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerslayer: invalid image reference "Foo/Bar": repository component "Foo" is not valid (repository names must be lower-case)\n');
  });
  test("an unreachable registry is a NETWORK error, exit 6", async () => {
    const r = await runCli(["inspect", "127.0.0.1:1/a:b"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe("layerslayer: cannot reach 127.0.0.1:1: connection refused\n");
  });
  test("unknown options and commands are usage errors", async () => {
    expect((await runCli(["inspect", "a", "--nope"])).code).toBe(2);
    expect((await runCli(["nope"])).stderr).toContain('unknown command "nope"');
    expect((await runCli(["history"])).code).toBe(2);
  });
  test("--password-stdin without a user is a usage error", async () => {
    const r = await runCli(["inspect", "127.0.0.1:1/a", "--password-stdin"], { stdin: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs -u/--username");
  });
  test("--help lists the commands and exit codes", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("inspect");
    expect(r.stdout + r.stderr).toContain("Exit codes:");
  });
});

describe("docker config credentials", () => {
  const reg = useRegistry({ auth: "htpasswd" });
  beforeAll(async () => {
    await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
  });
  test("are used when no flags or environment give any", async () => {
    const dir = join(isolatedHome, "dockercfg");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${READER.username}:${READER.password}`).toString("base64") } } }));
    const ok = await runCli(["tags", `${reg.host}/c/app`], { env: { DOCKER_CONFIG: dir } });
    expect(ok.stdout.trim()).toBe("v1");
    const none = await runCli(["tags", `${reg.host}/c/app`]);
    expect(none.code).toBe(3);
  });
});

describe("a loopback registry that speaks only TLS", () => {
  const reg = useRegistry({ tls: true });
  beforeAll(async () => {
    await pushImage(reg, "tls/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/tls", content: "tls" }]) }] });
  });

  test("is reached over HTTPS; its self-signed certificate needs --insecure or a trusted CA", async () => {
    const refused = await runCli(["tags", `${reg.host}/tls/app`]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/^layerslayer: cannot reach 127\.0\.0\.1:\d+: TLS error \(.*\); --insecure skips verification\n$/);
    const insecure = await runCli(["tags", `${reg.host}/tls/app`, "--insecure"]);
    expect(insecure.stdout).toBe("v1\n");
    const trusted = await runCli(["cat", `${reg.host}/tls/app:v1`, "/etc/tls"], { env: { NODE_EXTRA_CA_CERTS: reg.certPath! } });
    expect(trusted.stderr).toMatch(/^\/etc\/tls: 3 from layer 0/);
    expect(trusted.stdout).toBe("tls");
  });
});
