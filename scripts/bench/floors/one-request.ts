/**
 * Floor: a compiled Bun program that makes one registry request, a manifest GET, and reads the body.
 * A cached `ls IMAGE` must still ask the registry what its tag points at: this is that request and
 * nothing else (no auth challenge, no cache, no parsing).
 *
 *   one-request URL      (URL: http://HOST/v2/REPO/manifests/TAG)
 */
export {};

const url = process.argv[2];
if (!url) throw new Error("usage: one-request URL");
const res = await fetch(url, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json" } });
const body = await res.arrayBuffer();
if (!res.ok) throw new Error(`HTTP ${res.status}`);
console.log(res.headers.get("docker-content-digest") ?? "", body.byteLength);
