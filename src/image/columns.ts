/**
 * Growable typed-array columns: the merged tree keeps its paths, entries and events in these
 * instead of one object each (see merge.ts), so a million entries cost bytes, not objects.
 */

export type Column = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array;

/** `col` with room for `need` values (the same array when it has it); new slots hold `fill`. */
export function ensure<T extends Column>(col: T, need: number, fill = 0): T {
  if (need <= col.length) return col;
  // Doubling from 1,024: few copies for small trees (a copy is most of the cost of growing), at
  // most twice the room for large ones.
  let n = Math.max(col.length, 512);
  while (n < need) n *= 2;
  const next = new (col.constructor as new (n: number) => T)(n);
  next.set(col);
  if (fill !== 0) next.fill(fill, col.length);
  return next;
}

/** The typed arrays a NumberColumn moves through, narrowest first. */
export type NumberStore = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** The narrowest store kind that holds `v` exactly (Float64 for anything not a whole number ≥ 0, and -0). */
function kindFor(v: number): 0 | 1 | 2 | 3 {
  if (!Number.isInteger(v) || v < 0 || Object.is(v, -0)) return 3;
  return v <= 0xff ? 0 : v <= 0xffff ? 1 : v <= 0xffffffff ? 2 : 3;
}
const STORES = [Uint8Array, Uint16Array, Uint32Array, Float64Array] as const;

/**
 * A growable column of numbers kept in the narrowest typed array that holds every value written so
 * far: one byte a value while they are small (a layer index, a uid, an owner-name id), widened to
 * 16 or 32 bits, or to 64-bit floats (any number exactly: negative, fractional, NaN) the first
 * time a value needs it. Unwritten values read 0.
 */
export class NumberColumn {
  constructor(private store: NumberStore = new Uint8Array(0)) {}

  get(i: number): number {
    return this.store[i] ?? 0;
  }

  set(i: number, v: number): void {
    let s = this.store;
    if (i >= s.length) s = this.store = ensure(s, i + 1);
    s[i] = v;
    if (Object.is(s[i], v)) return;
    this.widen(kindFor(v));
    this.store[i] = v;
  }

  /** Room for `n` values without growing. */
  reserve(n: number): void {
    this.store = ensure(this.store, n);
  }

  /** The values 0..n-1 as a typed array (for storing them; `new NumberColumn(array)` takes them back). */
  values(n: number): NumberStore {
    this.store = ensure(this.store, n);
    return this.store.subarray(0, n);
  }

  private widen(kind: 0 | 1 | 2 | 3): void {
    const old = this.store;
    const at = STORES.findIndex((T) => old instanceof T);
    const next = new STORES[Math.max(kind, at + 1)]!(old.length);
    next.set(old);
    this.store = next;
  }
}
