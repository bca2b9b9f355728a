import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { freePort } from "./ports.ts";

export interface TestProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** What the proxy saw: request lines (tinyproxy's log) or CONNECT targets. */
  seen(): string[];
  stop(): Promise<void>;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      await Bun.sleep(25);
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/**
 * Debian's tinyproxy on a free loopback port, sending every request for a host under `domain`
 * (e.g. ".test") to `upstream` ("127.0.0.1:PORT") as to an upstream proxy: the absolute-form
 * request reaches the registry there, which serves it. No name under `domain` resolves anywhere
 * else, so only this proxy can reach it.
 */
export async function startTinyproxy(domain: string, upstream: string): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), "ls-tinyproxy-"));
  const port = freePort();
  const log = join(dir, "tinyproxy.log");
  const config = join(dir, "tinyproxy.conf");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "MaxClients 20",
      "LogLevel Connect",
      `LogFile "${log}"`,
      "Allow 127.0.0.1",
      "DisableViaHeader Yes",
      `Upstream http ${upstream} "${domain}"`,
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(["tinyproxy", "-d", "-c", config], { stdout: "ignore", stderr: "ignore" });
  try {
    await waitForPort(port);
  } catch (e) {
    proc.kill();
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => {
      try {
        return readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l.startsWith("CONNECT") && l.includes("Request (file descriptor"))
          .map((l) => l.replace(/^.*Request \(file descriptor \d+\): /, ""));
      } catch {
        return [];
      }
    },
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes to a Bun socket, keeping what the kernel did not take until it drains. */
class Outbox {
  private queue: Uint8Array[] = [];
  constructor(private readonly socket: Socket<unknown>) {}
  write(bytes: Uint8Array): void {
    if (this.queue.length) {
      this.queue.push(bytes);
      return;
    }
    const n = this.socket.write(bytes);
    if (n < bytes.byteLength) this.queue.push(bytes.subarray(Math.max(0, n)));
  }
  drain(): void {
    while (this.queue.length) {
      const head = this.queue[0]!;
      const n = this.socket.write(head);
      if (n < head.byteLength) {
        this.queue[0] = head.subarray(Math.max(0, n));
        return;
      }
      this.queue.shift();
    }
  }
}

interface Tunnel {
  head: Uint8Array;
  out: Outbox;
  upstream?: Outbox;
  upstreamSocket?: Socket<unknown>;
}

/**
 * A CONNECT-only proxy on loopback that opens tunnels to the names in `hosts` ("name:port" →
 * "127.0.0.1:port") and refuses every other target, so no byte leaves the machine.
 */
export function startConnectProxy(hosts: Record<string, string>): TestProxy {
  const seen: string[] = [];
  const server = Bun.listen<Tunnel>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { head: new Uint8Array(0), out: new Outbox(s as Socket<unknown>) };
      },
      drain(s) {
        s.data.out.drain();
      },
      async data(s, chunk) {
        const t = s.data;
        if (t.upstream) {
          t.upstream.write(new Uint8Array(chunk));
          return;
        }
        const joined = new Uint8Array(t.head.byteLength + chunk.byteLength);
        joined.set(t.head);
        joined.set(chunk, t.head.byteLength);
        t.head = joined;
        const text = new TextDecoder("latin1").decode(joined);
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const m = /^CONNECT (\S+) HTTP\/1\.[01]\r\n/.exec(text);
        const target = m ? hosts[m[1]!] : undefined;
        seen.push(m ? m[1]! : text.split("\r\n")[0]!);
        if (!target) {
          s.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
          s.end();
          return;
        }
        const colon = target.lastIndexOf(":");
        const upstreamSocket = await Bun.connect<null>({
          hostname: target.slice(0, colon),
          port: Number(target.slice(colon + 1)),
          socket: {
            data(_u, d) {
              t.out.write(new Uint8Array(d));
            },
            drain() {
              t.upstream?.drain();
            },
            close() {
              s.end();
            },
            error() {
              s.end();
            },
          },
        });
        t.upstreamSocket = upstreamSocket as Socket<unknown>;
        t.upstream = new Outbox(t.upstreamSocket);
        t.out.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
        const rest = joined.subarray(end + 4);
        if (rest.byteLength) t.upstream.write(rest);
      },
      close(s) {
        s.data?.upstreamSocket?.end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen: () => [...seen],
    async stop() {
      server.stop(true);
    },
  };
}
