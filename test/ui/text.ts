// Matching what the views print against the adapter's numbers: hex in any padding or digit
// grouping.

/** `0x…` as the views may print it (any zero padding; ungroup the text first). */
export function hexPattern(n: number | string | bigint): RegExp {
  const digits = BigInt(n).toString(16);
  return new RegExp(`0x0*${digits}(?![0-9a-f])`, 'i');
}

/** The text with `_` or `'` digit grouping removed. */
export function ungrouped(text: string): string {
  return text.replace(/(?<=[0-9a-f])[_'](?=[0-9a-f])/gi, '');
}
