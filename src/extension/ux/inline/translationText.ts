// The inline text for a memory operand at the stopped line: the address it touches and where it
// lands, in the vocabulary of the product (gva → gpa → mpa), plus what would really serve the
// access when that differs from the tables — a stale TLB entry, a shadow entry out of sync —
// because those are the moments the sloppy-guest examples are about.
import { hex } from '../../../debugAdapter/inspect/format';
import type { TranslationWire } from '../../../debugAdapter/viewsProtocol';

/** The physical address a TLB entry gives for this linear address (its frame plus the page offset). */
function tlbTarget(t: TranslationWire): number | null {
  const e = t.tlb;
  if (!e) return null;
  return e.frame + (t.linear - e.linearBase);
}

/** Where the hardware's translation ends: the gpa natively, the mpa under a hypervisor. */
function hardwareTarget(t: TranslationWire): number | null {
  return t.mode === 'native' ? t.gpa : t.mpa;
}

/** `gva 0x401008 → gpa 0x2008 → mpa 0x9008`, or why it does not translate. */
export function translationChain(t: TranslationWire): string {
  const gva = `gva ${hex(BigInt(t.gva))}`;
  if (!t.ok) return `${gva} → ✗ ${t.reason ?? 'not mapped'}`;
  const parts = [gva];
  if (t.gpa !== null) parts.push(`gpa ${hex(t.gpa)}`);
  if (t.mode !== 'native') parts.push(t.mpa !== null ? `mpa ${hex(t.mpa)}` : 'mpa: not backed yet');
  return parts.join(' → ');
}

/** Remarks after the chain: the TLB entry that would serve the access, a disagreeing shadow. */
export function translationRemarks(t: TranslationWire): string[] {
  const out: string[] = [];
  const viaTlb = tlbTarget(t);
  const expected = hardwareTarget(t);
  if (viaTlb !== null) {
    if (t.ok && expected !== null && viaTlb === expected) out.push('TLB hit');
    else out.push(`⚠ stale TLB entry → ${hex(viaTlb)}`);
  }
  if (t.shadow && !t.shadow.agrees) out.push(`⚠ shadow: ${t.shadow.note}`);
  return out;
}

/** The whole inline text for one operand, e.g. `[rbx+8] = gva 0x401008 → gpa 0x2008 → mpa 0x9008 · TLB hit`. */
export function memoryOperandText(operand: string, t: TranslationWire): string {
  return [`${operand} = ${translationChain(t)}`, ...translationRemarks(t)].join(' · ');
}

/** When the address itself cannot be computed (an unknown label, an unreadable register). */
export function unevaluatedText(operand: string, error: string): string {
  return `${operand} = ? (${error})`;
}
