/**
 * A proxy in front of the real registry that holds back an image's config: its answer waits until
 * a blob other than the config is asked for (or 3 s passed), or, with `failConfig`, is a 500. A
 * test sees whether a command asked for a layer before the config's answer (`early`): whether it
 * reads the layers while the config is read.
 */
import { forwardRequest } from "./counting-proxy.ts";

export interface ConfigHolder {
  host: string;
  /** A layer's blob was asked for before the config's answer went out. */
  early(): boolean;
  stop(): void;
}

export function startConfigHolder(targetUrl: string, configDigest: string, failConfig = false): ConfigHolder {
  let early = false;
  let configAnswered = false;
  let layerAsked: (() => void) | undefined;
  const asked = new Promise<void>((resolve) => (layerAsked = resolve));
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path.endsWith(`/blobs/${configDigest}`)) {
        if (failConfig) return new Response("no", { status: 500 });
        await Promise.race([asked, Bun.sleep(3000)]);
        configAnswered = true;
      } else if (path.includes("/blobs/")) {
        early ||= !configAnswered;
        layerAsked?.();
      }
      const { upstream, headers } = await forwardRequest(req, targetUrl);
      return new Response(upstream.body, { status: upstream.status, headers });
    },
  });
  return { host: `127.0.0.1:${server.port}`, early: () => early, stop: () => server.stop(true) };
}
