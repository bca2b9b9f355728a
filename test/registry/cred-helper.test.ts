import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helperCredentials } from "../../src/registry/cred-helper.ts";

describe("the docker-credential-* protocol", () => {
  let bin: string;
  const helper = (name: string, body: string) =>
    writeFileSync(join(bin, `docker-credential-${name}`), `#!/bin/sh\n[ "$1" = get ] || exit 9\nread -r server\n${body}\n`, { mode: 0o755 });
  const ask = (name: string, registry = "reg.example", timeoutMs?: number) =>
    helperCredentials(name, registry, { origin: "config.json", env: { PATH: `${bin}:${process.env.PATH}` }, ...(timeoutMs ? { timeoutMs } : {}) });
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), "ls-helpers-"));
    helper("echo", `printf '{"ServerURL":"%s","Username":"%s","Secret":"s3cret"}' "$server" "$server"`);
    helper("token", `printf '{"Username":"<token>","Secret":"refresh-me"}'`);
    helper("hang", "sleep 5; echo '{}'");
    helper("garbage", "echo 'not json'");
    helper("nosecret", `echo '{"Username":"u","Secret":""}'`);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  test("the server URL goes on stdin: the host for a registry, the historical URL for Docker Hub", async () => {
    expect(await ask("echo", "reg.example:5000")).toEqual({ username: "reg.example:5000", password: "s3cret" });
    expect(await ask("echo", "docker.io")).toEqual({ username: "https://index.docker.io/v1/", password: "s3cret" });
  });
  test("user name <token>: the secret is an identity token", async () => {
    expect(await ask("token")).toEqual({ identityToken: "refresh-me" });
  });
  test("a helper that does not answer in time is stopped, even when a child holds its output open", async () => {
    await expect(ask("hang", "reg.example", 300)).rejects.toThrow("the credential helper docker-credential-hang did not answer within 0.3 s");
  });
  test("answers that are not JSON or carry no secret are errors naming the helper", async () => {
    await expect(ask("garbage")).rejects.toThrow("the credential helper docker-credential-garbage answered for reg.example with something that is not JSON");
    await expect(ask("nosecret")).rejects.toThrow("the credential helper docker-credential-nosecret answered for reg.example without a Secret");
  });
});
