/**
 * eStargz layers made by the reference implementation: containerd's estargz package (Debian's
 * golang-github-containerd-stargz-snapshotter-dev), driven by a small Go program built once with
 * Debian's Go in GOPATH mode and kept in a cache directory keyed by its source.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCE = `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// estargz-build IN.tar OUT [CHUNK_SIZE]: writes the eStargz blob, prints its TOC digest and diff ID.
func main() {
	in, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	st, err := in.Stat()
	if err != nil {
		panic(err)
	}
	var opts []estargz.Option
	if len(os.Args) > 3 {
		n, err := strconv.Atoi(os.Args[3])
		if err != nil {
			panic(err)
		}
		opts = append(opts, estargz.WithChunkSize(n))
	}
	blob, err := estargz.Build(io.NewSectionReader(in, 0, st.Size()), opts...)
	if err != nil {
		panic(err)
	}
	out, err := os.Create(os.Args[2])
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(out, blob); err != nil {
		panic(err)
	}
	if err := blob.Close(); err != nil {
		panic(err)
	}
	if err := out.Close(); err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]string{"tocDigest": blob.TOCDigest().String(), "diffID": blob.DiffID().String()})
	fmt.Println(string(b))
}
`;

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(tmpdir(), `layerslayer-test-${process.getuid?.() ?? "user"}`);
  return join(base, "layerslayer-test-tools");
}

let built: string | undefined;

/** The helper binary, built on first use (a few seconds) and reused by later runs. */
export function estargzBuilder(): string {
  if (built) return built;
  const hash = new Bun.CryptoHasher("sha256").update(SOURCE).digest("hex").slice(0, 16);
  const dir = cacheDir();
  const bin = join(dir, `estargz-build-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(tmpdir(), "ls-estargz-src-"));
    try {
      writeFileSync(join(work, "main.go"), SOURCE);
      const tmpBin = join(work, "estargz-build");
      const r = Bun.spawnSync(["go", "build", "-o", tmpBin, "main.go"], {
        cwd: work,
        env: { ...process.env, GOPATH: "/usr/share/gocode", GO111MODULE: "off", GOFLAGS: "", GOCACHE: join(dir, "go-build-cache") },
        stderr: "pipe",
      });
      if (r.exitCode !== 0)
        throw new Error(`building the eStargz helper failed (golang-go and golang-github-containerd-stargz-snapshotter-dev installed?): ${r.stderr.toString()}`);
      renameSync(tmpBin, bin);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  built = bin;
  return bin;
}

export interface EstargzLayer {
  bytes: Uint8Array;
  /** Digest of the TOC JSON: the value of containerd.io/snapshot/stargz/toc.digest. */
  tocDigest: string;
  diffID: string;
}

/** An eStargz blob of `tar`, built by containerd's estargz.Build (chunk size in bytes, default 4 MiB). */
export function estargzLayer(tar: Uint8Array, chunkSize?: number): EstargzLayer {
  const work = mkdtempSync(join(tmpdir(), "ls-estargz-"));
  try {
    writeFileSync(join(work, "in.tar"), tar);
    const args = [estargzBuilder(), join(work, "in.tar"), join(work, "out")];
    if (chunkSize) args.push(String(chunkSize));
    const r = Bun.spawnSync(args, { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`estargz build failed: ${r.stderr.toString()}`);
    const meta = JSON.parse(r.stdout.toString()) as { tocDigest: string; diffID: string };
    return { bytes: new Uint8Array(readFileSync(join(work, "out"))), ...meta };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
