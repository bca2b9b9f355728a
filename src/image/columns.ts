/**
 * Growable typed-array columns: the merged tree keeps its paths, entries and events in these
 * instead of one object each (see merge.ts), so a million entries cost bytes, not objects.
 */

export type Column = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array;

/** `col` with room for `need` values (the same array when it has it); new slots hold `fill`. */
export function ensure<T extends Column>(col: T, need: number, fill = 0): T {
  if (need <= col.length) return col;
  let n = col.length;
  while (n < need) n = Math.ceil(n * 1.5) + 64;
  // transfer() moves the bytes and releases the old buffer now, not at some later collection: a
  // column grown from 1 to 1,000,000 rows would otherwise hold every size it passed through.
  const had = col.length;
  const next = new (col.constructor as new (b: ArrayBuffer) => T)((col.buffer as ArrayBuffer).transfer(n * col.BYTES_PER_ELEMENT));
  if (fill !== 0) next.fill(fill, had);
  return next;
}
