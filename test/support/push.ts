import type { TestRegistry } from "./registry.ts";

/** The harness trusts its own registries, TLS ones with self-signed certificates included. */
const trust = { tls: { rejectUnauthorized: false } } as RequestInit;

export function sha256(bytes: Uint8Array | string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(bytes);
  return `sha256:${h.digest("hex")}`;
}

/** Pushes a blob with the monolithic POST + PUT upload; returns its digest. */
export async function pushBlob(reg: TestRegistry, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const auth = await reg.pushAuth(repo);
  const head = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { ...trust, method: "HEAD", headers: auth });
  if (head.status === 200) return digest;
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { ...trust, method: "POST", headers: auth });
  if (start.status !== 202) throw new Error(`upload start for ${repo}: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get("location")!, reg.url);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    ...trust,
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/octet-stream", "Content-Length": String(bytes.byteLength) },
    body: bytes,
  });
  if (put.status !== 201) throw new Error(`blob upload for ${repo}: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

/** Pushes a manifest under a tag (or by digest when tag is omitted); returns its digest. */
export async function pushManifest(reg: TestRegistry, repo: string, bytes: Uint8Array | string, mediaType: string, tag?: string): Promise<string> {
  const body = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = sha256(body);
  const auth = await reg.pushAuth(repo);
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag ?? digest}`, {
    ...trust,
    method: "PUT",
    headers: { ...auth, "Content-Type": mediaType },
    body,
  });
  if (res.status !== 201) throw new Error(`manifest push for ${repo}:${tag}: HTTP ${res.status} ${await res.text()}`);
  return digest;
}
