import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

const BIN = "/usr/lib/postgresql/15/bin";

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** A URL for a fresh database of its own (created on the cluster). */
  newDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function idOf(user: string): { uid: number; gid: number } {
  const r = Bun.spawnSync(["id", "-u", user]);
  const g = Bun.spawnSync(["id", "-g", user]);
  if (r.exitCode !== 0) throw new Error(`no "${user}" user: install Debian's postgresql package (scripts/test-deps.sh)`);
  return { uid: Number(r.stdout.toString().trim()), gid: Number(g.stdout.toString().trim()) };
}

/** Runs a command as the postgres user when we are root (initdb refuses to run as root). */
function asPostgres(argv: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
}

function run(argv: string[]): void {
  const r = Bun.spawnSync(asPostgres(argv), { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv[0]} failed: ${r.stderr.toString()}${r.stdout.toString()}`);
}

/**
 * A throwaway PostgreSQL cluster (Debian's postgresql 15) on a free loopback port, data in a temp
 * directory owned by the postgres user, trust authentication for local connections.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "ls-pg-"));
  chmodSync(dir, 0o755);
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const { uid, gid } = idOf("postgres");
    chownSync(dir, uid, gid);
  }
  run([`${BIN}/initdb`, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  const port = freePort();
  run([`${BIN}/pg_ctl`, "-D", data, "-l", join(dir, "log"), "-w", "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=100`, "start"]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    async newDatabase(name: string) {
      const db = `${name.replace(/[^a-z0-9_]/g, "_")}_${n++}`;
      run([`${BIN}/psql`, "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-q", "-c", `CREATE DATABASE ${db}`]);
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      try {
        run([`${BIN}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
