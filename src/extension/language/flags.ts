// Architectural bit names a kernel writes as constants (PTE_RW, CR4_PSE, EFER_NXE) or in
// comments (CR0.WP, XD): where the bit is and what it means. CR0/CR4/EFER come from the
// debugger's register decoder, so the hover and the Variables view name bits identically;
// entry, #PF error-code and EPT bits follow /work/shared/reference/x86-paging.md (the SDM).
import { CR0_BITS, CR4_BITS, EFER_BITS, RFLAGS_BITS } from '../../debugAdapter/inspect/registers';

export type FlagContext = 'entry' | 'cr0' | 'cr4' | 'efer' | 'pf' | 'ept' | 'rflags';

export interface FlagInfo {
  context: FlagContext;
  name: string;
  bit: number;
  width: number;
  meaning: string;
}

export const CONTEXT_TITLES: Readonly<Record<FlagContext, string>> = {
  entry: 'paging-structure entry (PTE/PDE/PDPTE/PML4E)',
  cr0: 'CR0',
  cr4: 'CR4',
  efer: 'EFER (MSR 0xC0000080)',
  pf: '#PF error code',
  ept: 'EPT entry',
  rflags: 'RFLAGS',
};

/** A maker of `context`'s bits, so each table below reads as name, bit, meaning. */
const bitsOf = (context: FlagContext) => (name: string, bit: number, meaning: string, width = 1): FlagInfo => ({ context, name, bit, width, meaning });
const E = bitsOf('entry');

export const ENTRY_BITS: readonly FlagInfo[] = [
  E('P', 0, 'present: the entry maps something; clear → a not-present #PF'),
  E('RW', 1, 'read/write: writes allowed (ANDed over all levels; supervisor writes ignore it when CR0.WP=0)'),
  E('US', 2, 'user/supervisor: CPL 3 may access (ANDed over all levels)'),
  E('PWT', 3, 'page-level write-through'),
  E('PCD', 4, 'page-level cache disable'),
  E('A', 5, 'accessed: set by the walk in every entry it uses (sticky)'),
  E('D', 6, 'dirty: set in the leaf on a write (leaf entries only)'),
  E('PS', 7, 'page size: in a PDPTE/PDE, this entry maps a 1 GiB / 2 MiB (or 4 MiB) page'),
  E('PAT', 7, 'page attribute table index, in a 4 KiB PTE (bit 12 in a large-page entry)'),
  E('G', 8, 'global: the TLB entry survives MOV CR3 (leaf entries, with CR4.PGE)'),
  E('XD', 63, 'execute-disable: instruction fetches fault (ORed over all levels; reserved unless EFER.NXE)'),
];

const PF = bitsOf('pf');
const PF_BITS: readonly FlagInfo[] = [
  PF('P', 0, '0: the page was not present; 1: a protection violation'),
  PF('W', 1, 'the access was a write (W/R)'),
  PF('U', 2, 'the access was made at CPL 3 (U/S)'),
  PF('RSVD', 3, 'a reserved bit was set in a paging-structure entry'),
  PF('ID', 4, 'the access was an instruction fetch (I/D; with SMEP or NXE)'),
  PF('PK', 5, 'protection keys denied the access'),
];

const EPT = bitsOf('ept');
const EPT_BITS: readonly FlagInfo[] = [
  EPT('R', 0, 'read access allowed'),
  EPT('W', 1, 'write access allowed (-w- or -wx is a misconfiguration)'),
  EPT('X', 2, 'instruction fetch allowed'),
  EPT('MT', 3, 'memory type of a leaf (0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3, 7 misconfigure)', 3),
  EPT('IPAT', 6, 'ignore the guest PAT type'),
  EPT('PS', 7, 'large page (1 GiB in a PDPTE, 2 MiB in a PDE)'),
  EPT('A', 8, 'accessed (EPTP bit 6 enables EPT A/D)'),
  EPT('D', 9, 'dirty (EPTP bit 6 enables EPT A/D)'),
];

const fromRegister = (context: FlagContext, bits: readonly { name: string; bit: number; width?: number; title: string }[]): FlagInfo[] =>
  bits.map((b) => ({ context, name: b.name, bit: b.bit, width: b.width ?? 1, meaning: b.title }));

export const ALL_FLAGS: readonly FlagInfo[] = [
  ...ENTRY_BITS,
  ...fromRegister('cr0', CR0_BITS),
  ...fromRegister('cr4', CR4_BITS),
  ...fromRegister('efer', EFER_BITS),
  ...PF_BITS,
  ...EPT_BITS,
  ...fromRegister('rflags', RFLAGS_BITS),
];

/** Spelling variants: R/W, U/S, NX, I/D, W/R. */
const ALIASES: Readonly<Record<string, string>> = { NX: 'XD', 'R/W': 'RW', 'U/S': 'US', 'I/D': 'ID', 'W/R': 'W', PRESENT: 'P', USER: 'US', WRITE: 'RW', GLOBAL: 'G', DIRTY: 'D', ACCESSED: 'A', LARGE: 'PS' };

/** Name prefixes that say which register or structure a constant's bits belong to. */
const PREFIX_CONTEXT: Readonly<Record<string, FlagContext>> = {
  PTE: 'entry', PDE: 'entry', PDPTE: 'entry', PML4E: 'entry', PML5E: 'entry', PG: 'entry', PAGE: 'entry', ENTRY: 'entry',
  CR0: 'cr0', CR4: 'cr4', EFER: 'efer', PF: 'pf', PFEC: 'pf', EPT: 'ept', RFLAGS: 'rflags', EFLAGS: 'rflags', FLAGS: 'rflags',
};

export function contextOfPrefix(prefix: string): FlagContext | undefined {
  return PREFIX_CONTEXT[prefix.toUpperCase()];
}

/** The spellings a bit may go by: as written, and its alias (R/W → RW, NX → XD, WRITE → RW or W). */
function spellings(name: string): string[] {
  const up = name.toUpperCase();
  const alias = ALIASES[up];
  return up === 'WRITE' ? [up, 'RW', 'W'] : alias ? [up, alias] : [up];
}

/**
 * The bits a word names: `PTE_RW` (entry R/W), `CR4_PSE`, `CR0.WP`, or a bare upper-case `XD`
 * or `SMEP`. A bare name matches every structure that has such a bit (`P`: entry and #PF
 * error code); a prefixed one only its structure. Several words (PTE_USER_RW) name no single bit.
 */
export function flagsNamed(word: string): FlagInfo[] {
  const parts = word.split(/[_.]/).filter((p) => p !== '');
  if (parts.length === 0) return [];
  if (parts.length >= 2) {
    const ctx = contextOfPrefix(parts[0]);
    if (!ctx) return [];
    const names = spellings(parts.slice(1).join('_'));
    return ALL_FLAGS.filter((f) => f.context === ctx && names.includes(f.name));
  }
  if (word !== word.toUpperCase()) return [];
  const names = spellings(parts[0]);
  return ALL_FLAGS.filter((f) => names.includes(f.name));
}

/** The flags a value sets, read as bits of `context` (for `.equ PTE_USER_RW, 7` → P RW US). */
export function decodeFlags(value: bigint, context: FlagContext): string[] {
  const v = BigInt.asUintN(64, value);
  const out: string[] = [];
  for (const f of ALL_FLAGS) {
    if (f.context !== context) continue;
    if (context === 'entry' && f.name === 'PAT') continue; // bit 7 is reported as PS; PAT only in 4 KiB PTEs
    const field = (v >> BigInt(f.bit)) & ((1n << BigInt(f.width)) - 1n);
    if (field === 0n) continue;
    out.push(f.width === 1 ? f.name : `${f.name}=${field}`);
  }
  return out;
}
