// The entries a translation passes through, per table kind, as (table address, index) pairs from
// the root down: what "Reveal Current Walk" expands in the Page Tables view. Read from the
// `vmem/walk` payload: the guest walk, the shadow walk (shadow mode), the EPT walk of the final
// guest-physical address (nested mode).
import type { TableKind, TranslationWire } from '../../../debugAdapter/viewsProtocol';

export interface WalkStep {
  tableAddress: number;
  index: number;
  present: boolean;
}

export interface WalkPath {
  kind: TableKind;
  steps: WalkStep[];
}

const nonZero = (v: string): boolean => BigInt(v) !== 0n;

export function walkPaths(walk: TranslationWire): WalkPath[] {
  const out: WalkPath[] = [];
  const guest = walk.guest.levels.map((l) => ({ tableAddress: l.tableAddress, index: l.index, present: l.flags.p }));
  if (guest.length) out.push({ kind: 'guest', steps: guest });
  const shadow = walk.shadow?.walk?.levels.map((l) => ({ tableAddress: l.tableAddress, index: l.index, present: l.flags.p }));
  if (shadow?.length) out.push({ kind: 'shadow', steps: shadow });
  // EPT: present means any of R/W/X (bits 0–2).
  const ept = walk.ept?.levels.map((l) => ({ tableAddress: l.tableAddress, index: l.index, present: nonZero(l.entry) && (BigInt(l.entry) & 7n) !== 0n }));
  if (ept?.length) out.push({ kind: 'ept', steps: ept });
  return out;
}

/** The steps a tree can show: up to the last present entry, or the first non-present one too when those are shown. */
export function visibleSteps(path: WalkPath, showNotPresent: boolean): WalkStep[] {
  const out: WalkStep[] = [];
  for (const s of path.steps) {
    if (!s.present) {
      if (showNotPresent) out.push(s);
      break;
    }
    out.push(s);
  }
  return out;
}
