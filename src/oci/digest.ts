import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

type Algo = "sha256" | "sha384" | "sha512";
const ALGOS = new Set<string>(["sha256", "sha384", "sha512"]);

export function digestAlgorithm(digest: string): Algo {
  const algo = digest.split(":")[0] ?? "";
  if (!ALGOS.has(algo)) throw new LayerslayerError("UNSUPPORTED", `digest algorithm "${escapeName(algo.slice(0, 40))}" is not supported`);
  return algo as Algo;
}

/** "algo:hex" of bytes. */
export function digestOf(bytes: Uint8Array, algo: Algo = "sha256"): string {
  const h = new Bun.CryptoHasher(algo);
  h.update(bytes);
  return `${algo}:${h.digest("hex")}`;
}

/** Incremental digest for streams. */
export class DigestHasher {
  private readonly hasher: Bun.CryptoHasher;
  constructor(readonly algo: Algo) {
    this.hasher = new Bun.CryptoHasher(algo);
  }
  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }
  digest(): string {
    return `${this.algo}:${this.hasher.digest("hex")}`;
  }
  /** The digest of what was hashed so far plus `rest`, leaving this hasher as it was. */
  digestWith(rest: Uint8Array): string {
    const copy = this.hasher.copy();
    copy.update(rest);
    return `${this.algo}:${copy.digest("hex")}`;
  }
}
