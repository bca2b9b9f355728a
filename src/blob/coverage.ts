/**
 * Which bytes of one blob were downloaded: a set of byte ranges, so a byte fetched twice (a TOC
 * footer probe, then a read of the whole layer; a transfer resumed from a server that sends it
 * again) counts once and a blob's count never exceeds its size.
 */
export class ByteCoverage {
  /** Disjoint [start, end) ranges in order, touching ones merged. */
  private ranges: [number, number][] = [];

  /** Bytes [start, end) arrived. */
  add(start: number, end: number): void {
    if (!(end > start)) return;
    const out: [number, number][] = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.ranges) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    this.ranges = out.sort((x, y) => x[0] - y[0]);
  }

  /** Everything `other` holds. */
  addAll(other: ByteCoverage): void {
    for (const [a, b] of other.ranges) this.add(a, b);
  }

  /** Distinct bytes held. */
  get size(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a;
    return n;
  }
}
