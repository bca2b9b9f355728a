/**
 * Every string a registry supplies (repository names, tags, config fields, platforms, media types,
 * digests, error messages) is escaped before it reaches a terminal, in every command that prints
 * one; a name that is not a valid repository name or tag is reported, escaped, and skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorLine, expectTerminalSafe, MAIN, runCli, type CliResult } from "../support/cli.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, pushIndex } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { startStandIn, type StandIn } from "../support/stand-in.ts";
import { startTerminal } from "../support/tmux.ts";

/** Hostile names: control characters, bidi overrides, line breaks, and names the grammar refuses. */
const HOSTILE = ["evil/\x1b[31mred", "bell\x07/x", "c1/\u009b31m", "bidi/\u202eexe.txt", "line/a\nb", "nul/\0x", "Upper/Case", "../up", "a//b", "x".repeat(300), ""];
const GOOD = ["a/one", "b/two"];

function safe(r: CliResult): void {
  expectTerminalSafe(r.stdout, "stdout");
  expectTerminalSafe(r.stderr, "stderr");
}

/** The lines a skipped name gives, escaped as escapeName prints it. */
function skippedLine(what: string, shown: string, kind: string): string {
  return `layerslayer: ${what}: "${shown}" is not ${kind}; skipped`;
}

const SHOWN: Record<string, string> = {
  "evil/\x1b[31mred": "evil/\\x1b[31mred",
  "bell\x07/x": "bell\\x07/x",
  "c1/\u009b31m": "c1/\\u009b31m",
  "bidi/\u202eexe.txt": "bidi/\\u202eexe.txt",
  "line/a\nb": "line/a\\nb",
  "nul/\0x": "nul/\\x00x",
  "Upper/Case": "Upper/Case",
  "../up": "../up",
  "a//b": "a//b",
  ["x".repeat(300)]: "x".repeat(300),
  "": "",
};

/** A registry stand-in (a real registry refuses such names when they are pushed). */
describe("a catalog and tag lists holding names that are not names", () => {
  let server: StandIn;
  let host = "";
  beforeAll(() => {
    server = startStandIn((url) => {
      if (url.pathname === "/v2/_catalog") return Response.json({ repositories: [GOOD[0], ...HOSTILE, GOOD[1], HOSTILE[0]] });
      return Response.json({ tags: ["v1", "\x1b]0;title\x07", "bad tag", "v\u202e2", "-dash", "v2"] });
    });
    host = server.host;
  });
  afterAll(() => server.stop());

  test("catalog: the valid names listed, each bad one reported once (escaped) and skipped, exit 7 at the end", async () => {
    const r = await runCli(["catalog", host]);
    safe(r);
    expect(r.stdout).toBe("a/one\nb/two\n");
    expect(r.stderr.split("\n").slice(0, -1)).toEqual(HOSTILE.map((n) => skippedLine(`${host} catalog`, SHOWN[n]!, "a repository name")));
    expect(r.code).toBe(7);
    const json = await runCli(["catalog", host, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ schema: 1, registry: host, repositories: GOOD, complete: false });
    expect(json.code).toBe(7);
  });

  test("catalog --tags: the same names skipped, bad tags skipped per repository, no bad name ever put in a URL", async () => {
    server.asked.length = 0;
    const r = await runCli(["catalog", host, "--tags"]);
    safe(r);
    expect(r.stdout).toBe("a/one:v1\na/one:v2\nb/two:v1\nb/two:v2\n");
    const lines = r.stderr.split("\n").slice(0, -1);
    for (const n of HOSTILE) expect(lines).toContain(skippedLine(`${host} catalog`, SHOWN[n]!, "a repository name"));
    for (const repo of GOOD) {
      for (const tag of ["\\x1b]0;title\\x07", "bad tag", "v\\u202e2", "-dash"]) expect(lines).toContain(skippedLine(`${host}/${repo} tags`, tag, "a tag"));
    }
    expect(lines).toHaveLength(HOSTILE.length + 2 * 4);
    expect(r.code).toBe(7);
    expect(
      server.asked
        .filter((p) => p.includes("/tags/list"))
        .map((p) => p.split("?")[0])
        .toSorted(),
    ).toEqual(GOOD.map((n) => `/v2/${n}/tags/list`));
    const json = await runCli(["catalog", host, "--tags", "--json"]);
    expect(JSON.parse(json.stdout).repositories).toEqual(GOOD.map((name) => ({ name, tags: ["v1", "v2"] })));
    expect(json.code).toBe(7);
  });

  test("tags: bad tags reported and skipped, the rest listed, exit 7", async () => {
    const r = await runCli(["tags", `${host}/a/one`]);
    safe(r);
    expect(r.stdout).toBe("v1\nv2\n");
    expect(r.stderr.split("\n").slice(0, -1)).toEqual(["\\x1b]0;title\\x07", "bad tag", "v\\u202e2", "-dash"].map((t) => skippedLine(`${host}/a/one tags`, t, "a tag")));
    expect(r.code).toBe(7);
  });

  test("scan --catalog --all-tags: bad names reported and skipped before anything is scanned", async () => {
    const db = `${(await import("node:os")).tmpdir()}/ls-strings-${process.pid}.sqlite`;
    const r = await runCli(["scan", "--catalog", host, "--all-tags", "--json", "--db", db]);
    safe(r);
    const lines = r.stderr.split("\n");
    for (const n of HOSTILE) expect(lines).toContain(skippedLine(`${host} catalog`, SHOWN[n]!, "a repository name"));
    const refs = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).reference as string);
    expect(refs.toSorted()).toEqual(GOOD.flatMap((n) => [`${host}/${n}:v1`, `${host}/${n}:v2`]));
    expect(r.code).not.toBe(0);
    (await import("node:fs")).rmSync(db, { force: true });
  });
});

/** An image whose config and index carry hostile strings in every field a command prints (real registry). */
describe("an image whose config, history and index carry control and bidi characters", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let image = "";
  let multi = "";
  const nasty = (tag: string) => `${tag}\x1b[31m\x07\u009b\u202e\u2028`;
  beforeAll(async () => {
    const layer = layerFrom([{ path: "etc/motd", content: "hi\n" }]);
    const pushed = await pushImage(reg, "s/app", "v1", {
      layers: [{ bytes: layer }],
      platform: { os: nasty("linux"), architecture: nasty("amd64"), variant: nasty("v") },
      history: [{ created_by: nasty("RUN make"), comment: nasty("comment") }],
      config: {
        created: nasty("2024-01-01"),
        config: {
          User: nasty("root"),
          WorkingDir: nasty("/w"),
          Env: [nasty("A=1")],
          Entrypoint: [nasty("sh")],
          Cmd: [nasty("-c")],
          Labels: { [nasty("k")]: nasty("v") },
          ExposedPorts: { [nasty("80/tcp")]: {} },
        },
      },
    });
    const plain = await pushImage(reg, "s/app", "plain", { layers: [{ bytes: layer }] });
    await pushIndex(reg, "s/app", "multi", [
      { image: plain, platform: { os: "linux", architecture: "amd64" } },
      { image: pushed, platform: { os: nasty("linux"), architecture: "arm64" } },
    ]);
    image = `${reg.host}/s/app:v1`;
    multi = `${reg.host}/s/app:multi`;
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("inspect, history, platforms, peek, ls: nothing raw on stdout or stderr, text or JSON", async () => {
    for (const cmd of [
      ["inspect", image],
      ["history", image],
      ["platforms", image],
      ["platforms", multi],
      ["peek", image],
      ["ls", image, "/"],
    ]) {
      for (const json of [[], ["--json"]]) {
        const r = await runCli([...cmd, ...json]);
        expect(r.code).toBe(0);
        safe(r);
      }
    }
    const text = await runCli(["inspect", image]);
    for (const shown of [
      "Platform:   linux\\x1b[31m\\x07\\u009b\\u202e\\u2028/amd64",
      "Created:    2024-01-01\\x1b[31m",
      "User:       root\\x1b",
      "Ports:      80/tcp\\x1b",
      "  k\\x1b[31m\\x07\\u009b\\u202e\\u2028=v\\x1b",
    ]) {
      expect(text.stdout).toContain(shown);
    }
    const json = JSON.parse((await runCli(["inspect", image, "--json"])).stdout);
    expect(json.config.user).toBe(nasty("root")); // JSON carries the value itself, escaped as JSON
    expect((await runCli(["history", image])).stdout).toContain("RUN make\\x1b[31m\\x07\\u009b\\u202e (layer 0)"); // U+2028 is white space, trimmed
  });

  test("manifest and config: byte for byte into a pipe, the same JSON made safe on a terminal", async () => {
    const piped = await runCli(["config", image]);
    expect(piped.stdout).toContain(nasty("root").slice(4).replace("\x1b", "\\u001b").replace("\x07", "\\u0007"));
    const term = startTerminal(["sh", "-c", `${process.execPath} ${MAIN} config ${image} > /dev/tty; echo; echo done-$?; sleep 30`]);
    try {
      await term.waitFor(/done-0/);
      const screen = term.screen();
      expect(screen).toContain("\\u009b\\u202e\\u2028");
      expect(screen).not.toContain("\u202e");
    } finally {
      term.kill();
    }
  });

  test("a platform that is not there: the available ones escaped in the one error line (exit 4)", async () => {
    const r = await runCli(["inspect", multi, "--platform", "windows/amd64"]);
    expect(r.code).toBe(4);
    expect(errorLine(r)).toBe(`layerslayer: ${multi}: no image for platform windows/amd64; available: linux/amd64, linux\\x1b[31m\\x07\\u009b\\u202e\\u2028/arm64`);
  });

  test("a manifest whose digests or media types are not what the grammar allows: exit 7 or 8, one line, escaped, nothing fetched by them", async () => {
    const swap = (from: string, to: string) => (bytes: Uint8Array) => new TextEncoder().encode(new TextDecoder().decode(bytes).replace(from, to));
    const cases: [(b: Uint8Array) => Uint8Array, number, RegExp][] = [
      [
        swap('"digest": "sha256:', '"digest": "sha256:../../x\\u001b[31m'),
        7,
        /the image manifest's (config|layer 0) has an invalid digest: digest "sha256:\.\.\/\.\.\/x\\x1b\[31m[0-9a-f]+" is not of the form algorithm:hex$/,
      ],
      [swap('"digest": "sha256:', '"digest": "sha256:aa'), 7, /has an invalid digest: sha256 digest must be 64 lower-case hex characters$/],
      [swap('"size":', '"mediaType": 7, "size":'), 7, /has a media type that is not a string$/],
      [() => new TextEncoder().encode('{"schemaVersion": 2, "mediaType": "application/x\\u001b[31m\\u202e"}'), 8, /unsupported manifest type "application\/x\\x1b\[31m\\u202e"$/],
    ];
    for (const [change, code, message] of cases) {
      proxy.requests.length = 0;
      proxy.rule = (req) => (new URL(req.url).pathname.includes("/manifests/") ? { kind: "tamper", change } : undefined);
      const r = await runCli(["inspect", `${proxy.host}/s/app:plain`]);
      expect(r.code).toBe(code);
      expect(errorLine(r)).toMatch(message);
      expect(proxy.requests.filter((q) => q.path.includes("/blobs/"))).toEqual([]);
    }
    // A media type the grammar does not know, on a manifest that is an image by its shape: used, shown escaped.
    proxy.rule = (req) =>
      new URL(req.url).pathname.includes("/manifests/")
        ? { kind: "tamper", change: swap('"mediaType": "application/vnd.oci.image.manifest.v1+json"', '"mediaType": "application/x\\u001b[31m\\u202e"') }
        : undefined;
    const shaped = await runCli(["inspect", `${proxy.host}/s/app:plain`]);
    expect(shaped.code).toBe(0);
    safe(shaped);
    expect(shaped.stdout).toContain("Media type: application/x\\x1b[31m\\u202e\n");
    proxy.rule = () => undefined;
  });
});

/** Header values a registry sends that end up quoted in a message (through the fault proxy, on the real registry). */
describe("headers quoted in errors", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  beforeAll(async () => {
    await pushImage(reg, "h/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  // Bun's HTTP parser refuses C0 controls in a header (a network error), but passes bytes 0x80-0xff
  // through as Latin-1: a 0x9b byte becomes U+009B, the C1 control sequence introducer.
  const csi = "\u009b31m";
  const cases: [string, () => Fault | undefined, (req: Request) => boolean, number, string][] = [
    [
      "a Docker-Content-Digest",
      () => ({ kind: "headers", set: { "Docker-Content-Digest": `sha256:${csi}bad` } }),
      (req) => req.url.includes("/manifests/"),
      7,
      "but the registry says sha256:",
    ],
    // Not a token: no challenge at all, so the login is what fails; the scheme is never shown.
    ["an authentication scheme", () => ({ kind: "status", status: 401, headers: { "WWW-Authenticate": `E${csi}vil realm=x` } }), () => true, 3, "not authorized to pull h/app"],
    ["a Retry-After", () => ({ kind: "status", status: 429, headers: { "Retry-After": `soon${csi}` } }), (req) => req.url.includes("/manifests/"), 5, "retry after soon"],
    [
      "a registry error message",
      () => ({ kind: "status", status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no \\u001b[31m\\u202e such"}]}' }),
      (req) => req.url.includes("/manifests/"),
      4,
      "(MANIFEST_UNKNOWN: no \\x1b[31m\\u202e such)",
    ],
  ];
  for (const [what, fault, when, code, shown] of cases) {
    test(`${what} is escaped in the one error line (exit ${code})`, async () => {
      proxy.rule = (req) => (when(req) ? fault() : undefined);
      const r = await runCli(["inspect", `${proxy.host}/h/app:v1`, "--no-cache"]);
      expect(r.code).toBe(code);
      safe(r);
      expect(errorLine(r)).toContain(shown);
      if (code === 5 || code === 7) expect(r.stderr).toContain("\\u009b31m");
    });
  }
});
