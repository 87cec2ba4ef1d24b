// Queries over an assembly result: address → source line, source line → addresses, and the
// printable listing `vmem asm` shows.
import { AssembleResult, SourceMapEntry } from './types';

/** The source-map entry whose bytes include `address`. */
export function lookupAddress(result: AssembleResult, address: number): SourceMapEntry | undefined {
  const map = result.sourceMap;
  let lo = 0;
  let hi = map.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid].address <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Zero-length entries do not exist, and entries never overlap in a result without errors,
  // but scan back a little so an overlap error still finds something sensible.
  for (let i = found; i >= 0 && i >= found - 8; i--) {
    const e = map[i];
    if (address >= e.address && address < e.address + e.length) return e;
  }
  return undefined;
}

/**
 * The entry whose bytes are *loaded* at guest-physical `pa`. Unlike code addresses, load
 * addresses are unique even when `.phys` puts two programs at the same virtual address, so a
 * debugger that has translated rip to a gpa finds the one line it is executing.
 */
export function lookupLoadAddress(result: AssembleResult, pa: number): SourceMapEntry | undefined {
  for (const e of result.sourceMap) if (pa >= e.loadAddress && pa < e.loadAddress + e.length) return e;
  return undefined;
}

/**
 * Addresses produced by a source line, ascending. By default only instructions (what a
 * breakpoint wants); pass 'any' to include data directives.
 */
export function addressesForLine(result: AssembleResult, file: string, line: number, kind: 'insn' | 'data' | 'any' = 'insn'): number[] {
  return result.sourceMap
    .filter((e) => e.file === file && e.line === line && (kind === 'any' || e.kind === kind))
    .map((e) => e.address);
}

/** Bytes at [address, address + length) from the result's segments (missing bytes read as 0). */
export function bytesAt(result: AssembleResult, address: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (const s of result.segments) {
    const from = Math.max(address, s.address);
    const to = Math.min(address + length, s.address + s.bytes.length);
    if (from < to) out.set(s.bytes.subarray(from - s.address, to - s.address), from - address);
  }
  return out;
}

const BYTES_PER_ROW = 12;
const MAX_DATA_ROWS = 3;

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * A listing: one row per source-map entry (address, up to 12 bytes, file:line, source text),
 * continuation rows for longer entries, then the diagnostics and the symbol table.
 */
export function listing(result: AssembleResult): string {
  const width = BYTES_PER_ROW * 3 - 1;
  const rows: string[] = [];
  const addr = (a: number): string => a.toString(16).padStart(8, '0');
  for (const e of result.sourceMap) {
    const shown = Math.min(e.length, BYTES_PER_ROW * MAX_DATA_ROWS);
    const bytes = bytesAt(result, e.loadAddress, shown);
    const where = `${e.file}:${e.line}`;
    // `.phys`-placed bytes show their load address too: 00400000@00080000.
    const at = e.loadAddress === e.address ? addr(e.address) : `${addr(e.address)}@${addr(e.loadAddress)}`;
    rows.push(`${at}  ${hexBytes(bytes.subarray(0, BYTES_PER_ROW)).padEnd(width)}  ${where.padEnd(16)}  ${e.text}`);
    for (let o = BYTES_PER_ROW; o < shown; o += BYTES_PER_ROW) {
      rows.push(`${addr(e.address + o)}  ${hexBytes(bytes.subarray(o, o + BYTES_PER_ROW))}`);
    }
    if (shown < e.length) rows.push(`${' '.repeat(8)}  ... ${e.length - shown} more bytes`);
  }
  if (result.diagnostics.length > 0) {
    rows.push('', 'Diagnostics:');
    for (const d of result.diagnostics) rows.push(`  ${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
  }
  if (result.symbols.size > 0) {
    rows.push('', 'Symbols:');
    const names = [...result.symbols.keys()].sort();
    for (const n of names) {
      const v = result.symbols.get(n) as bigint;
      const kind = result.labels.has(n) ? 'label' : 'equ';
      rows.push(`  ${('0x' + BigInt.asUintN(64, v).toString(16)).padStart(18)}  ${kind.padEnd(5)}  ${n}`);
    }
  }
  if (result.entry !== undefined) rows.push('', `Entry: 0x${result.entry.toString(16)}`);
  return rows.join('\n') + '\n';
}
