// Page walks printed the way systems debuggers print them (Bochs `page`, HyperDbg `!pte`,
// QEMU `info tlb`): one line per level with the table address, index, entry and flag letters,
// the EPT steps under each level in nested mode, then the result, the shadow check and the TLB.
import type { EntryFlags, SecondStageWalk, WalkLevel } from '../../engine/mmu/walkRecord';
import { entryName } from '../../engine/mmu/walkRecord';
import { EPT_LEVEL_NAMES, describeEptEntry } from '../../engine/vmm/nested/eptFormat';
import type { TlbEntryInfo } from '../../engine/mmu/tlb';
import type { TranslationProbe } from './translation';
import { flagLetters, hex, hex64, sizeText } from './format';

/** QEMU's letters: X(D) G P(S) D A C(PCD) T(PWT) U W, '-' when clear. */
export function entryFlagLetters(f: EntryFlags): string {
  if (!f.p) return 'not present';
  return flagLetters([[f.xd, 'X'], [f.g, 'G'], [f.ps, 'P'], [f.d, 'D'], [f.a, 'A'], [f.pcd, 'C'], [f.pwt, 'T'], [f.us, 'U'], [f.rw, 'W']]);
}

function rightsText(r: { write: boolean; user: boolean; execute: boolean }): string {
  return `${r.user ? 'user' : 'supervisor'} ${r.write ? 'RW' : 'RO'}${r.execute ? '' : ' NX'}`;
}

export function levelLine(l: WalkLevel): string {
  const ad = [l.accessedSet ? 'A' : '', l.dirtySet ? 'D' : ''].join('');
  return `  ${entryName(l.name).padEnd(6)} table ${hex(l.tableAddress, 8)} [${String(l.index).padStart(4)}] @${hex(l.entryAddress, 8)} = ${hex64(l.entry)}  ${entryFlagLetters(l.flags)}` +
    `${l.leaf ? '  (leaf)' : ''}${l.flags.p ? `  so far: ${rightsText(l.rightsSoFar)}` : ''}${ad ? `  sets ${ad}` : ''}${l.reservedBits.length ? `  RESERVED bits ${l.reservedBits.join(',')}` : ''}`;
}

export function eptLines(w: SecondStageWalk, indent = '      '): string[] {
  const out = [`${indent}EPT ${w.purpose} gpa ${hex(w.gpa, 8)}:`];
  for (const l of w.levels) {
    const lo = Number(l.entry & 0xffffffffn);
    const hi = Number(l.entry >> 32n);
    out.push(`${indent}  ${(EPT_LEVEL_NAMES[l.level] ?? l.name).padEnd(9)} table ${hex(l.tableAddress, 8)} [${String(l.index).padStart(3)}] = ${describeEptEntry(l.level, lo, hi).replace(/^.*?: /, hex64(l.entry) + '  ')}`);
  }
  if (w.cachedLevels) out.push(`${indent}  (${w.cachedLevels} level(s) from the walk caches)`);
  out.push(`${indent}  → ${w.ok ? `mpa ${hex(w.mpa ?? 0, 8)} (${sizeText(w.pageSize ?? 4096)} page)` : w.outcome ?? 'EPT violation'}`);
  return out;
}

export function tlbLine(e: TlbEntryInfo): string {
  const f = flagLetters([[!e.rights.execute, 'X'], [e.global, 'G'], [e.pageSize > 4096, 'P'], [e.dirty, 'D'], [e.rights.user, 'U'], [e.rights.write, 'W']]);
  return `${hex(e.linearBase, 16).slice(2)}: ${hex(e.frame, 16).slice(2)} ${f} ${sizeText(e.pageSize).padStart(4)} vpid ${e.vpid} pcid ${e.pcid}${e.large ? ' (large)' : ` set ${e.set} way ${e.way}`}`;
}

/** `walk <gva>`: every level, EPT steps, shadow entry, TLB entry. */
export function walkText(p: TranslationProbe): string {
  const out: string[] = [];
  const w = p.guest;
  out.push(`gva ${hex64(p.gva)}  vm${p.vmId}/vcpu${p.vcpu}  ${p.mode} mode, ${p.pagingMode === 'none' ? 'paging off' : p.pagingMode + ' paging'}  (${p.access}${w.user ? ', user' : ''}; probe: no A/D, no TLB)`);
  if (w.pdpteFromRegister) out.push('  PDPTE from the PDPTE register (PAE)');
  const twoD = p.twoD;
  w.levels.forEach((l, i) => {
    out.push(levelLine(l));
    const s = twoD?.levels[i]?.secondStage;
    if (s) out.push(...eptLines(s));
  });
  if (w.ok) {
    out.push(`  → ${p.mode === 'paravirt' ? 'mpa' : 'gpa'} ${hex(w.physical ?? 0, 8)}  (${sizeText(w.pageSize ?? 4096)} page, ${rightsText(w.rights ?? { write: false, user: false, execute: false })}${w.global ? ', global' : ''})`);
  } else {
    out.push(`  → fault: ${w.reason ?? 'translation failed'}${w.errorCode !== undefined ? ` (#PF error code ${hex(w.errorCode)})` : ''}`);
  }
  if (p.mode === 'nested' && twoD) {
    if (p.ept) out.push(...eptLines(p.ept, '  '));
    else if (!twoD.ok && w.ok) out.push(`  2-D walk now: ${twoD.reason ?? 'stops early'} (the VMM fills the EPT on the violation)`);
    out.push(`  memory references of the 2-D walk: ${twoD.memoryReferences}`);
  }
  if (p.gpa !== null && p.mode !== 'native') out.push(`  gpa ${hex(p.gpa, 8)} → mpa ${p.mpa === null ? '(not backed yet)' : hex(p.mpa, 8)}`);
  if (p.noMemory) out.push(`  no memory at that gpa: reads see all ones`);
  if (p.shadow) {
    out.push(`  shadow: ${p.shadow.note}`);
    const sw = p.shadow.walk;
    if (sw) for (const l of sw.levels) out.push('  ' + levelLine(l).replace(/^ {2}/, 's'));
  }
  out.push(p.tlb ? `  TLB: ${tlbLine(p.tlb)}` : '  TLB: no entry');
  return out.join('\n');
}

/** `pte <gva>`: the leaf entry only, HyperDbg style. */
export function pteText(p: TranslationProbe): string {
  const l = p.guest.levels[p.guest.levels.length - 1];
  if (!l) return `gva ${hex64(p.gva)}: ${p.guest.ok ? 'paging off (gva = gpa)' : p.reason ?? 'no walk'}`;
  const head = `gva ${hex64(p.gva)}  ${entryName(l.name)} at ${p.mode === 'paravirt' || p.mode === 'native' ? '' : 'gpa '}${hex(l.entryAddress, 8)} (table ${hex(l.tableAddress, 8)} index ${l.index}) = ${hex64(l.entry)}  ${entryFlagLetters(l.flags)}`;
  const tail = p.guest.ok ? `  → ${hex(p.guest.physical ?? 0, 8)}` : `  (walk stops here: ${p.guest.reason})`;
  return head + tail;
}
