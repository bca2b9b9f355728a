import { expect, test } from "bun:test";
import { databaseLocation } from "../../src/db/open.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { errorLine, runCli } from "../support/cli.ts";

/** Database URLs that cannot be used, each with the secret it holds (never to be printed). */
const MALFORMED: [string, RegExp][] = [
  ["postgres://user:s3cret@[::1/db", /not a valid PostgreSQL URL/],
  ["postgres://user:s3cret@host:99999/db", /not a valid PostgreSQL URL/],
  ["postgres://user:s3cret@host:port/db", /not a valid PostgreSQL URL/],
  ["postgres://user:s3cret@bad host/db", /not a valid PostgreSQL URL/],
  ["postgresql://us%zzer:s3cret@host/db", /bad %-escape/],
  ["postgres://user:s3cret%G1@host/db", /bad %-escape/],
  ["postgres://user:s3cret@host/d%b", /bad %-escape/],
  ["postgres://user:s3cret@127.0.0.1:1/db?sslmode=bogus", /the database URL cannot be used: .*sslmode/],
  ["sqlite:", /sqlite: needs a file path/],
  ["mysql://user:s3cret@host/db", /expected a postgres:\/\/ URL or a file path, not mysql:\/\/…/],
];

test("a malformed database URL is a usage error naming where it came from (--db or LAYERSLAYER_DB)", () => {
  for (const [url] of MALFORMED.filter(([u]) => !u.includes("sslmode"))) {
    for (const [flag, env, label] of [
      [url, {}, "--db"],
      [undefined, { LAYERSLAYER_DB: url }, "LAYERSLAYER_DB"],
    ] as const) {
      let err: unknown;
      try {
        databaseLocation(flag, env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LayerslayerError);
      expect((err as LayerslayerError).code).toBe("USAGE");
      expect((err as LayerslayerError).message).toStartWith(`${label}: `);
      expect((err as LayerslayerError).message).not.toContain("s3cret");
    }
  }
});

test("scan and search with a malformed database URL: exit 2, one line, no stack trace, no password, nothing asked of a registry", async () => {
  for (const [url, why] of MALFORMED) {
    for (const args of [
      ["search", "etc/*"],
      ["scan", "127.0.0.1:9/never/asked:v1"],
    ]) {
      for (const verbose of [[], ["--verbose"]]) {
        const viaFlag = await runCli([...args, "--db", url, ...verbose]);
        expect(viaFlag.code).toBe(2);
        expect(errorLine(viaFlag)).toMatch(why);
        expect(viaFlag.stderr).not.toContain("s3cret");
        expect(viaFlag.stdout).toBe("");
      }
      const viaEnv = await runCli(args, { env: { LAYERSLAYER_DB: url } });
      expect(viaEnv.code).toBe(2);
      expect(errorLine(viaEnv)).toMatch(why);
      expect(viaEnv.stderr).not.toContain("s3cret");
    }
  }
});
