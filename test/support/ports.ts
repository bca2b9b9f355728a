/** A free TCP port on loopback (asked of the kernel, then released). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function waitFor(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { tls: { rejectUnauthorized: false } } as RequestInit);
      await res.body?.cancel();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${url} did not come up: ${String(e)}`);
      await Bun.sleep(30);
    }
  }
}
