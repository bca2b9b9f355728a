/**
 * A tiny read-only OCI registry in memory, for the demo only (the tests use the real CNCF
 * distribution registry): /v2/, manifests by tag or digest, blobs with Range.
 */
export interface DemoRegistry {
  host: string;
  put(repo: string, tag: string | undefined, bytes: Uint8Array, mediaType?: string): string;
  stop(): void;
}

function digest(bytes: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

export function startDemoRegistry(): DemoRegistry {
  const blobs = new Map<string, Uint8Array>();
  const manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/v2/" || url.pathname === "/v2") return Response.json({});
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      if (!m) return new Response("not found", { status: 404 });
      const [, repo, kind, ref] = m as unknown as [string, string, string, string];
      if (kind === "manifests") {
        const found = manifests.get(`${repo}@${ref}`);
        if (!found) return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }, { status: 404 });
        return new Response(req.method === "HEAD" ? null : found.bytes, {
          headers: { "Content-Type": found.mediaType, "Docker-Content-Digest": digest(found.bytes), "Content-Length": String(found.bytes.length) },
        });
      }
      const blob = blobs.get(ref);
      if (!blob) return Response.json({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] }, { status: 404 });
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get("range") ?? "");
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : blob.length - 1, blob.length - 1);
        if (start >= blob.length) return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${blob.length}` } });
        return new Response(blob.subarray(start, end + 1), { status: 206, headers: { "Content-Range": `bytes ${start}-${end}/${blob.length}` } });
      }
      return new Response(req.method === "HEAD" ? null : blob, { headers: { "Content-Length": String(blob.length), "Docker-Content-Digest": ref } });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    put(repo, tag, bytes, mediaType) {
      const d = digest(bytes);
      if (mediaType) {
        manifests.set(`${repo}@${d}`, { bytes, mediaType });
        if (tag) manifests.set(`${repo}@${tag}`, { bytes, mediaType });
      } else blobs.set(d, bytes);
      return d;
    },
    stop: () => server.stop(true),
  };
}
