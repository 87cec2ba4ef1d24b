// Number and flag formatting shared by the webviews' view models (pure: unit-tested in node).

/** 0x hex of a number or of a wire hex string (bigints travel as 0x strings). */
export function hex(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return '0x' + BigInt(v).toString(16);
  return '0x' + v.toString(16);
}

/** Hex zero-padded to `digits` (for aligned columns of addresses and entries). */
export function hexPad(v: number | string, digits: number): string {
  const n = typeof v === 'string' ? BigInt(v) : BigInt(v);
  return '0x' + n.toString(16).padStart(digits, '0');
}

/** Integers with thousands separators (fixed locale: identical in tests and in any UI language). */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 4096 → "4 KiB", 2097152 → "2 MiB". */
export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = bytes;
  while (v >= 1024 && v % 1024 === 0 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

/** Rights as the walk accumulates them: "R W X U" with '-' for what is missing ("R - X S"). */
export function rights(r: { write: boolean; user: boolean; execute: boolean } | undefined): string {
  if (!r) return '—';
  return `R ${r.write ? 'W' : '-'} ${r.execute ? 'X' : '-'} ${r.user ? 'U' : 'S'}`;
}

/** An x86 paging entry's flags as the walk record carries them. */
export interface EntryFlagsLike {
  p: boolean; rw: boolean; us: boolean; pwt: boolean; pcd: boolean; a: boolean; d: boolean;
  ps: boolean; g: boolean; pat: boolean; xd: boolean;
}

/** Flag names in display order (high to low as in QEMU's `info tlb`, XD first). */
export const FLAG_ORDER: readonly (keyof EntryFlagsLike)[] = ['xd', 'g', 'ps', 'd', 'a', 'pcd', 'pwt', 'us', 'rw', 'p'];

export const FLAG_TITLES: Record<keyof EntryFlagsLike, string> = {
  p: 'P: present', rw: 'R/W: writable', us: 'U/S: user', pwt: 'PWT: write-through', pcd: 'PCD: cache disable',
  a: 'A: accessed', d: 'D: dirty', ps: 'PS: page size (large page)', g: 'G: global', pat: 'PAT', xd: 'XD: execute disable',
};

const FLAG_LETTER: Record<keyof EntryFlagsLike, string> = {
  p: 'P', rw: 'W', us: 'U', pwt: 'T', pcd: 'C', a: 'A', d: 'D', ps: 'S', g: 'G', pat: 'T', xd: 'X',
};

/** The short mnemonic of a flag (as in the tree views' QEMU letters). */
export function flagLetter(f: keyof EntryFlagsLike): string {
  return f === 'pat' ? 'PAT' : f === 'rw' ? 'RW' : f === 'us' ? 'US' : f === 'ps' ? 'PS' : f === 'xd' ? 'XD' : f === 'pwt' ? 'PWT' : f === 'pcd' ? 'PCD' : FLAG_LETTER[f];
}

/** The flags set in an entry, in display order. */
export function setFlags(f: EntryFlagsLike): (keyof EntryFlagsLike)[] {
  return FLAG_ORDER.filter((k) => f[k]);
}

/** Flags that differ between two entries' decodings (for the A/D highlight). */
export function changedFlags(before: EntryFlagsLike, after: EntryFlagsLike): (keyof EntryFlagsLike)[] {
  return FLAG_ORDER.filter((k) => before[k] !== after[k]);
}

/** EPT entry bits (SDM 29.3.2): R W X in bits 0..2, memory type 3..5, A 8, D 9, large 7. */
export function eptFlags(entry: string): string[] {
  const v = BigInt(entry);
  const out: string[] = [];
  if (v & 1n) out.push('R');
  if (v & 2n) out.push('W');
  if (v & 4n) out.push('X');
  if (v & 0x80n) out.push('LARGE');
  if (v & 0x100n) out.push('A');
  if (v & 0x200n) out.push('D');
  return out;
}
