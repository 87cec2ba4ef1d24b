// The bits of one page-table entry in words, for a row's tooltip: where the SDM puts them for
// x86 entries (P R/W U/S PWT PCD A D PS G PAT XD and the address field) and for EPT entries
// (R W X, memory type, IPAT, large page, A D, user-execute). Decoded from the raw value the
// adapter sent, so the tooltip shows exactly what the entry holds.
import type { TableKind, TableRootWire } from '../../../debugAdapter/viewsProtocol';
import { hex } from '../format';

export interface DecodedBit {
  /** "0", "12", "63" or a range "12–51". */
  bits: string;
  name: string;
  value: string;
  meaning: string;
}

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;
const on = (b: boolean): string => (b ? '1' : '0');

const MEMORY_TYPES: Record<number, string> = { 0: 'UC', 1: 'WC', 4: 'WT', 5: 'WP', 6: 'WB' };

export interface EntryContext {
  kind: TableKind;
  level: number;
  leaf: boolean;
  present: boolean;
  paging: TableRootWire['paging'] | undefined;
}

export function decodeEntry(value: string, c: EntryContext): DecodedBit[] {
  const v = BigInt(value);
  return c.kind === 'ept' ? decodeEpt(v, c) : decodeX86(v, c);
}

function decodeX86(v: bigint, c: EntryContext): DecodedBit[] {
  const wide = c.paging !== '32bit';
  const out: DecodedBit[] = [{ bits: '0', name: 'P', value: on(bit(v, 0)), meaning: bit(v, 0) ? 'present' : 'not present: the other bits are free for the OS' }];
  if (!c.present) return out;
  const pdpteOfPae = c.paging === 'pae' && c.level === 3;
  if (!pdpteOfPae) {
    out.push({ bits: '1', name: 'R/W', value: on(bit(v, 1)), meaning: bit(v, 1) ? 'writable' : 'read-only' });
    out.push({ bits: '2', name: 'U/S', value: on(bit(v, 2)), meaning: bit(v, 2) ? 'user and supervisor' : 'supervisor only' });
  }
  out.push({ bits: '3', name: 'PWT', value: on(bit(v, 3)), meaning: bit(v, 3) ? 'write-through' : 'write-back' });
  out.push({ bits: '4', name: 'PCD', value: on(bit(v, 4)), meaning: bit(v, 4) ? 'cache disabled' : 'cacheable' });
  if (!pdpteOfPae) out.push({ bits: '5', name: 'A', value: on(bit(v, 5)), meaning: bit(v, 5) ? 'accessed' : 'not accessed since cleared' });
  if (c.leaf) out.push({ bits: '6', name: 'D', value: on(bit(v, 6)), meaning: bit(v, 6) ? 'dirty: written' : 'clean' });
  if (c.level > 1 && !pdpteOfPae) out.push({ bits: '7', name: 'PS', value: on(bit(v, 7)), meaning: bit(v, 7) ? 'maps a large page' : 'points to a table' });
  if (c.leaf) {
    out.push({ bits: '8', name: 'G', value: on(bit(v, 8)), meaning: bit(v, 8) ? 'global: survives CR3 writes (with CR4.PGE)' : 'not global' });
    const patBit = c.level === 1 ? 7 : 12;
    out.push({ bits: String(patBit), name: 'PAT', value: on(bit(v, patBit)), meaning: 'memory-type index bit 2' });
  }
  const addrLow = c.leaf && c.level > 1 ? (wide ? 12 + 9 * (c.level - 1) : 22) : 12;
  const addrHigh = wide ? 51 : 31;
  const mask = ((1n << BigInt(addrHigh + 1)) - 1n) & ~((1n << BigInt(addrLow)) - 1n);
  let address = v & mask;
  if (!wide && c.leaf && c.level === 2) address = (v & 0xffc00000n) | (((v >> 13n) & 0xffn) << 32n);
  out.push({ bits: `${addrLow}–${addrHigh}`, name: 'address', value: hex(address), meaning: c.leaf ? 'the page frame' : 'the next table' });
  if (wide) out.push({ bits: '63', name: 'XD', value: on(bit(v, 63)), meaning: bit(v, 63) ? 'execute disabled (with EFER.NXE)' : 'executable' });
  return out;
}

function decodeEpt(v: bigint, c: EntryContext): DecodedBit[] {
  const out: DecodedBit[] = [
    { bits: '0', name: 'R', value: on(bit(v, 0)), meaning: bit(v, 0) ? 'read allowed' : 'read denied' },
    { bits: '1', name: 'W', value: on(bit(v, 1)), meaning: bit(v, 1) ? 'write allowed' : 'write denied' },
    { bits: '2', name: 'X', value: on(bit(v, 2)), meaning: bit(v, 2) ? 'execute allowed' : 'execute denied' },
  ];
  if (!c.present) return out;
  if (c.leaf) {
    const mt = Number((v >> 3n) & 7n);
    out.push({ bits: '3–5', name: 'MT', value: String(mt), meaning: `memory type ${MEMORY_TYPES[mt] ?? 'reserved'}` });
    out.push({ bits: '6', name: 'IPAT', value: on(bit(v, 6)), meaning: bit(v, 6) ? 'ignore the guest PAT' : 'combine with the guest PAT' });
  }
  if (c.level > 1) out.push({ bits: '7', name: 'PS', value: on(bit(v, 7)), meaning: bit(v, 7) ? 'maps a large page' : 'points to a table' });
  out.push({ bits: '8', name: 'A', value: on(bit(v, 8)), meaning: bit(v, 8) ? 'accessed' : 'not accessed (or A/D off)' });
  if (c.leaf) out.push({ bits: '9', name: 'D', value: on(bit(v, 9)), meaning: bit(v, 9) ? 'dirty' : 'clean (or A/D off)' });
  out.push({ bits: '10', name: 'XU', value: on(bit(v, 10)), meaning: 'user-mode execute (mode-based control)' });
  const addrLow = c.leaf && c.level > 1 ? 12 + 9 * (c.level - 1) : 12;
  const address = v & (((1n << 52n) - 1n) & ~((1n << BigInt(addrLow)) - 1n));
  out.push({ bits: `${addrLow}–51`, name: 'address', value: hex(address), meaning: c.leaf ? 'the machine frame' : 'the next EPT table' });
  return out;
}
