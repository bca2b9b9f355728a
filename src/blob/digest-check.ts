import { DigestHasher, digestAlgorithm } from "../oci/digest.ts";

/**
 * The digest check of a read from byte 0: every byte passes through it, and it judges the blob as
 * soon as the last one from the network is in (the rest, a tail already in memory, is added then),
 * since a consumer that stops at that chunk (cat, once its file is out) never pulls again.
 */
export class DigestCheck {
  private readonly hasher: DigestHasher;
  /** What the blob hashed to when every byte had arrived; undefined until then. */
  early: string | undefined;

  constructor(digest: string) {
    this.hasher = new DigestHasher(digestAlgorithm(digest));
  }

  update(bytes: Uint8Array): void {
    this.hasher.update(bytes);
  }

  /** Every byte but `rest` (in memory) has arrived: what the blob hashes to, computed once. */
  judgeWith(rest: Uint8Array | undefined): string | undefined {
    if (this.early !== undefined) return undefined;
    this.early = this.hasher.digestWith(rest ?? new Uint8Array(0));
    return this.early;
  }

  /** What every byte that passed hashes to. */
  final(): string {
    return this.hasher.digest();
  }
}
