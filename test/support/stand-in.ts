/**
 * A registry stand-in, for lists and names a real registry cannot be made to send (a Link that
 * changes on every page, names outside the grammar). It answers the `/v2/` ping itself and hands
 * every other request to `answer`, recording its path and query first.
 */
export interface StandIn {
  /** "127.0.0.1:PORT", as a reference's registry part. */
  host: string;
  /** Every request but the ping, as path and query (decoded), in order. */
  asked: string[];
  stop(): void;
}

export function startStandIn(answer: (url: URL, n: number) => Response): StandIn {
  const asked: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/v2/") return Response.json({});
      asked.push(decodeURIComponent(`${url.pathname}${url.search}`));
      return answer(url, asked.length);
    },
  });
  return { host: `127.0.0.1:${server.port}`, asked, stop: () => server.stop(true) };
}
