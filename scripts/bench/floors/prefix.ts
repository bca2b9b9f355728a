/**
 * The floors' one blob read: the first BYTES of the blob at URL (argv: URL [BYTES], default
 * 262144), with one Range request; anything but a 206 of exactly that many bytes is an error.
 */
export async function fetchPrefix(program: string): Promise<Uint8Array> {
  const url = process.argv[2];
  const bytes = Number(process.argv[3] ?? 256 * 1024);
  if (!url || !Number.isInteger(bytes) || bytes < 1) throw new Error(`usage: ${program} URL [BYTES]`);
  const res = await fetch(url, { headers: { Range: `bytes=0-${bytes - 1}` } });
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 206 || body.length !== bytes) throw new Error(`HTTP ${res.status}, ${body.length} bytes`);
  return body;
}
