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
