/**
 * `docker save`'s archive as Docker 25 and later write it, which `docker load`, `podman load` and
 * skopeo's `docker-archive:` read: an OCI image layout in a tar, plus `manifest.json` naming the
 * config and the layers by their paths in it (`blobs/sha256/<hex>`) and the image's tag.
 * The layout is written first (layout-writer.ts), then packed file by file.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { END_OF_ARCHIVE, memberHeaders, padding } from "../tar/writer.ts";
import type { LayoutImage } from "./layout-writer.ts";

export type Write = (chunk: Uint8Array) => void | Promise<void>;

const CHUNK = 1 << 20;

/** manifest.json of a one-image archive. */
export function dockerManifestJson(image: LayoutImage, repoTags: string[]): Uint8Array {
  const path = (digest: string) => `blobs/${digest.replace(":", "/")}`;
  const [im] = image.images;
  return new TextEncoder().encode(JSON.stringify([{ Config: path(im!.configDigest), RepoTags: repoTags, Layers: im!.layers.map((l) => path(l.digest)) }]));
}

/** Packs the layout directory `dir` and `manifest.json` into one tar. */
export async function packLayout(dir: string, manifestJson: Uint8Array, write: Write): Promise<void> {
  const head = { mode: 0o644, uid: 0, gid: 0, mtime: 0, uname: "", gname: "" };
  const walk = async (rel: string): Promise<void> => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (name.startsWith(".")) continue;
      const path = rel ? `${rel}/${name}` : name;
      const st = statSync(join(dir, path));
      if (st.isDirectory()) {
        for (const b of memberHeaders({ ...head, path, type: "dir", mode: 0o755, size: 0 })) await write(b);
        await walk(path);
        continue;
      }
      for (const b of memberHeaders({ ...head, path, type: "file", size: st.size })) await write(b);
      const fd = openSync(join(dir, path), "r");
      try {
        for (let off = 0; off < st.size;) {
          const buf = new Uint8Array(Math.min(CHUNK, st.size - off));
          const n = readSync(fd, buf, 0, buf.byteLength, off);
          if (n <= 0) throw new Error(`${path}: ended early`);
          await write(buf.subarray(0, n));
          off += n;
        }
      } finally {
        closeSync(fd);
      }
      await write(padding(st.size));
    }
  };
  await walk("");
  for (const b of memberHeaders({ ...head, path: "manifest.json", type: "file", size: manifestJson.byteLength })) await write(b);
  await write(manifestJson);
  await write(padding(manifestJson.byteLength));
  await write(END_OF_ARCHIVE);
}
