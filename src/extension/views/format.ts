// Number formatting shared by the views: addresses in hex (exact beyond 2^53 via bigint),
// inclusive ranges as a systems debugger prints them, page sizes, thousands separators.
import type { TableRootWire } from '../../debugAdapter/viewsProtocol';
import { hex } from '../../debugAdapter/inspect/format';

// The debugger's own hex, so a view and the Debug Console spell an address alike.
export { hex };

/**
 * The canonical form of a linear address: bit 47 (4-level) or 56 (5-level) copied upward, so
 * the upper half of a PML4 reads 0xffff8000_00000000 as the CPU sees it. Other formats and
 * guest-physical ranges are unchanged.
 */
export function canonical(address: bigint, paging: TableRootWire['paging'] | undefined): bigint {
  const bits = paging === '4level' ? 48 : paging === '5level' ? 57 : 0;
  if (bits === 0) return address;
  return BigInt.asUintN(64, BigInt.asIntN(bits, address));
}

/** `0x400000–0x5fffff`: the inclusive range [from, to). */
export function rangeText(from: number, to: number, paging?: TableRootWire['paging']): string {
  const a = canonical(BigInt(from), paging);
  const b = canonical(BigInt(to) - 1n, paging);
  return `${hex(a)}–${hex(b)}`;
}

const SIZES: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];

/** 4096 → "4 KiB", 2 MiB, 512 GiB, 256 TiB. */
export function sizeText(bytes: number): string {
  for (const [unit, name] of SIZES) if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  return `${bytes} B`;
}

export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** "4level" → "4-level" and so on, as the status bar and tooltips say it. */
export function pagingText(paging: string | undefined): string {
  switch (paging) {
    case '32bit':
      return '32-bit';
    case 'pae':
      return 'PAE';
    case '4level':
      return '4-level';
    case '5level':
      return '5-level';
    case 'ept':
      return 'EPT';
    case undefined:
    case 'none':
      return 'paging off';
    default:
      return paging;
  }
}

/** Escapes text for a MarkdownString: guest-controlled names and messages must not become markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => '\\' + c).replace(/\r?\n/g, '  \n');
}
