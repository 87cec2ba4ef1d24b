// Guest-virtual addresses in what the adapter prints to the Debug Console, so "Translate
// Address…" can offer them. Only addresses the text itself says are gvas count — a fault's or
// INVLPG's `gva`, a VM exit's guest-linear address, the address `walk`/`pte` translated, a TLB
// entry's linear page — never gpas, mpas, table addresses, entries or every event's rip (which
// would bury the interesting ones). Pure: the tracker feeds it text.
import type { WalkAccess } from '../../../engine/mmu/walkRecord';
import { addressLiteralHex } from '../commands/addressInput';
import { parseGvaReference } from '../gvaReference';

export interface HarvestedAddress {
  /** Canonical lower-case 0x hex. */
  gva: string;
  /** The line it came from (trimmed, shortened), for the picker's detail. */
  line: string;
  /** How the line says the address was accessed, when it says. */
  access?: WalkAccess;
  /** The VM (and vCPU) the line names: `vm1/vcpu0`, or a scenario's VM name. */
  where?: string;
}

const MAX_LINE = 160;
const ACCESSES: readonly string[] = ['read', 'write', 'fetch'];
/** Event keys that hold a guest-virtual address (src/engine/events.ts). */
const GVA_KEYS = ['gva', 'guestLinear'] as const;

/** Hex as printed (with or without 0x) as the picker's canonical 0x form; undefined beyond 64 bits. */
function canonical(hex: string): string | undefined {
  return addressLiteralHex(/^0x/i.test(hex) ? hex : '0x' + hex);
}

function shorten(line: string): string {
  const t = line.trim();
  return t.length <= MAX_LINE ? t : t.slice(0, MAX_LINE - 1) + '…';
}

const accessOf = (v: unknown): WalkAccess | undefined => (typeof v === 'string' && ACCESSES.includes(v) ? (v as WalkAccess) : undefined);

/** A `logEvents` line: `[vm] {json}` (the prefix names the VM) or bare JSON. */
function fromEventLine(line: string): HarvestedAddress[] {
  const m = /^\s*(?:\[([^\]]+)\]\s*)?(\{.*\})\s*$/.exec(line);
  if (!m) return [];
  let event: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(m[2]);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
    event = parsed as Record<string, unknown>;
  } catch {
    return [];
  }
  if (typeof event.kind !== 'string') return [];
  const vcpu = typeof event.vcpu === 'number' ? `/vcpu${event.vcpu}` : '';
  const where = m[1] !== undefined ? m[1] + vcpu : undefined;
  const out: HarvestedAddress[] = [];
  for (const key of GVA_KEYS) {
    const v = event[key];
    const gva = typeof v === 'string' ? canonical(v) : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? '0x' + v.toString(16) : undefined;
    if (gva !== undefined && !out.some((x) => x.gva === gva)) out.push({ gva, line: shorten(line), access: accessOf(event.access), where });
  }
  return out;
}

/** `gva 0x…` in free text: stop descriptions, `walk`/`pte`/`translate` headers, the Translation scope. */
const GVA_WORD = /\bgva (0x[0-9a-f]+)\b/gi;
/** `walk`'s header `(write, user; probe…)`, a page fault's `; fetch, error code`, an EPT violation's `: fetch denied`. */
const ACCESS_IN_TEXT = /\((read|write|fetch)(?:, user)?; probe\b|; (read|write|fetch), error code\b|: (read|write|fetch) denied\b/;
/** `walk`'s header `vm1/vcpu0`. */
const WHERE_IN_TEXT = /\b(vm\d+\/vcpu\d+)\b/;
/** `exits`: `guest-linear address: 0x…`. */
const GUEST_LINEAR = /\bguest-linear address:? (0x[0-9a-f]+)\b/i;
/** `tlb` rows and `walk`'s `TLB:` line: `<16 hex linear page>: <16 hex frame> flags size vpid`. */
const TLB_ROW = /^\s*(?:TLB: )?([0-9a-f]{16}): [0-9a-f]{16} [-A-Z]+ +\d+[KMG]? vpid\b/;

function fromTextLine(line: string): HarvestedAddress[] {
  const out: HarvestedAddress[] = [];
  const add = (hex: string, access?: WalkAccess, where?: string): void => {
    const gva = canonical(hex);
    if (gva !== undefined && !out.some((x) => x.gva === gva)) out.push({ gva, line: shorten(line), access, where });
  };
  const a = ACCESS_IN_TEXT.exec(line);
  const access = accessOf(a?.[1] ?? a?.[2] ?? a?.[3]);
  const where = WHERE_IN_TEXT.exec(line)?.[1];
  for (const m of line.matchAll(GVA_WORD)) add(m[1], access, where);
  const linear = GUEST_LINEAR.exec(line);
  if (linear) add(linear[1]);
  const tlb = TLB_ROW.exec(line);
  if (tlb) add(tlb[1]);
  return out;
}

/** The gvas a block of console text names, in the order they appear. */
export function harvestAddresses(text: string): HarvestedAddress[] {
  const out: HarvestedAddress[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const found = fromEventLine(line);
    out.push(...(found.length ? found : fromTextLine(line)));
  }
  return out;
}

/** A console expression's value the adapter tagged as a gva (evaluate's `memoryReference`). */
export function harvestEvaluation(expression: string, result: string, memoryReference: string | undefined): HarvestedAddress | undefined {
  const ref = parseGvaReference(memoryReference);
  return ref && { gva: ref.gva, line: shorten(`${expression.trim()} = ${result.trim()}`), where: `vm${ref.vm}/vcpu${ref.vcpu}` };
}
