// Number and flag formatting shared by the console commands, variables and payloads: the
// spellings systems debuggers use (0x-prefixed hex, flag letters, sizes in KiB/MiB/GiB).

export function hex(v: number | bigint, width = 0): string {
  const b = typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt(v);
  return '0x' + b.toString(16).padStart(width, '0');
}

/** 64-bit hex with all 16 digits, as entries are printed. */
export function hex64(v: bigint): string {
  return hex(v, 16);
}

export function sizeText(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}G`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}M`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}K`;
  return `${bytes}`;
}

/** Letters for set flags, '-' for clear ones, in the order given (Bochs/QEMU style). */
export function flagLetters(bits: readonly [boolean, string][]): string {
  return bits.map(([on, letter]) => (on ? letter : '-')).join('');
}

export function bitSet(v: number | bigint, bit: number): boolean {
  return ((BigInt(v) >> BigInt(bit)) & 1n) === 1n;
}
