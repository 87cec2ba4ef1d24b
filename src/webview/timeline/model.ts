// The Event Timeline's view model: engine events binned by instruction count into buckets of a
// round width, stacked by series (an event kind; page faults split into true and hidden), the
// axis ticks, and each event in one line of words. Pure and DOM-free: unit-tested in node.
import type { LoggedEventWire } from '../../debugAdapter/viewsProtocol';
import { hex as hexOf } from '../shared/format';

export type EventWire = LoggedEventWire['event'];

/** A series: an event kind, with page faults split in two (what a lecture contrasts). */
export function seriesOf(e: EventWire): string {
  if (e.kind === 'page-fault') return e.hidden ? 'hidden fault' : 'true fault';
  return e.kind;
}

/** Series in drawing order (bottom of a stack first); unknown kinds go after these. */
export const SERIES_ORDER: readonly string[] = [
  'true fault', 'hidden fault', 'vm-exit', 'ept-violation', 'ept-misconfig', 'pt-write', 'shadow-sync', 'invlpg', 'cr3-write',
  'tlb-flush', 'invept', 'invvpid', 'invpcid', 'hypercall', 'exception', 'interrupt', 'cr-write', 'msr-write', 'io', 'console', 'halt', 'stop', 'tlb-miss',
];

export function compareSeries(a: string, b: string): number {
  const ia = SERIES_ORDER.indexOf(a);
  const ib = SERIES_ORDER.indexOf(b);
  return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a.localeCompare(b);
}

/** A round bucket width (1, 2, 5 × 10^k) giving at most `maxBuckets` over `span` instructions. */
export function bucketWidth(span: number, maxBuckets: number): number {
  const raw = Math.max(1, span / Math.max(1, maxBuckets));
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export interface Bucket {
  index: number;
  start: number;
  /** Exclusive. */
  end: number;
  total: number;
  counts: Map<string, number>;
  events: LoggedEventWire[];
}

export interface Binned {
  width: number;
  start: number;
  end: number;
  buckets: Bucket[];
  series: string[];
  max: number;
}

/**
 * Bins `events` (already filtered) over [0, end): end is at least the last event's icount + 1
 * and the `until` instruction count (the latest stop), so the axis reaches "now".
 */
export function bin(events: readonly LoggedEventWire[], maxBuckets: number, until = 0, hidden: ReadonlySet<string> = new Set()): Binned {
  const last = events.reduce((m, e) => Math.max(m, e.event.icount), 0);
  const span = Math.max(last + 1, until, 1);
  const width = bucketWidth(span, maxBuckets);
  const n = Math.max(1, Math.ceil(span / width));
  const buckets: Bucket[] = Array.from({ length: n }, (_, i) => ({ index: i, start: i * width, end: (i + 1) * width, total: 0, counts: new Map(), events: [] }));
  const series = new Set<string>();
  for (const le of events) {
    const s = seriesOf(le.event);
    series.add(s);
    if (hidden.has(s)) continue;
    const b = buckets[Math.min(n - 1, Math.floor(le.event.icount / width))];
    b.total++;
    b.counts.set(s, (b.counts.get(s) ?? 0) + 1);
    b.events.push(le);
  }
  return { width, start: 0, end: n * width, buckets, series: [...series].sort(compareSeries), max: buckets.reduce((m, b) => Math.max(m, b.total), 0) };
}

/** Round tick values for an axis from 0 to `max` (about `target` ticks). */
export function ticks(max: number, target: number): number[] {
  if (max <= 0) return [0];
  const step = bucketWidth(max, target);
  const out: number[] = [];
  for (let v = 0; v <= max; v += step) out.push(v);
  return out;
}

/** 12345 → "12.3k", 2500000 → "2.5M" (axis labels). */
export function shortCount(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** A field an event may lack reads "?" here (the shared hex's "—" would read as a value). */
const hex = (v: string | number | undefined): string => (v === undefined ? '?' : hexOf(v));

/** The guest-virtual address an event is about, if any (for "show its translation"). */
export function eventGva(e: EventWire): string | undefined {
  switch (e.kind) {
    case 'page-fault':
    case 'invlpg':
    case 'pt-write':
      return hex(e.gva);
    case 'ept-violation':
      return e.gva !== undefined ? hex(e.gva) : undefined;
    case 'vm-exit':
      return e.guestLinear !== undefined ? hex(e.guestLinear) : undefined;
    case 'tlb-flush':
    case 'shadow-sync':
      return e.gva !== undefined ? hex(e.gva) : undefined;
    default:
      return undefined;
  }
}

/** One line of words for an event. Console text and reasons are guest-influenced: render as text only. */
export function describeEvent(e: EventWire): string {
  switch (e.kind) {
    case 'page-fault':
      return `${e.hidden ? 'hidden' : 'true'} #PF at ${hex(e.gva)} (${e.access}${e.user ? ', user' : ''}, error code ${hex(e.errorCode)}): ${e.reason}`;
    case 'vm-exit':
      return `VM exit ${e.reason} ${e.reasonName}${e.description ? `: ${e.description}` : ''}`;
    case 'ept-violation':
      return `EPT violation at gpa ${hex(e.gpa)}${e.gva !== undefined ? ` (gva ${hex(e.gva)})` : ''}: ${e.description}; ${e.resolution}`;
    case 'ept-misconfig':
      return `EPT misconfiguration at gpa ${hex(e.gpa)}: ${e.description}`;
    case 'invlpg':
      return `INVLPG ${hex(e.gva)}`;
    case 'invpcid':
      return `INVPCID type ${e.type}, PCID ${e.pcid}, ${hex(e.gva)}`;
    case 'cr3-write':
      return `CR3 ${hex(e.oldValue)} → ${hex(e.newValue)}${e.noFlush ? ' (no flush)' : ''}`;
    case 'cr-write':
      return `CR${e.register} ${hex(e.oldValue)} → ${hex(e.newValue)}`;
    case 'msr-write':
      return `WRMSR ${hex(e.msr)} = ${hex(e.value)}`;
    case 'tlb-flush':
      return `TLB flush (${e.scope}${e.gva !== undefined ? ` ${hex(e.gva)}` : ''}): ${e.entriesRemoved} entries, ${e.cause}`;
    case 'tlb-miss':
      return `TLB miss ${hex(e.gva)} (${e.access})`;
    case 'halt':
      return 'HLT';
    case 'console':
      return `console: ${e.text}`;
    case 'io':
      return `${e.direction === 'in' ? 'IN' : 'OUT'} port ${hex(e.port)} (${e.size} bytes) = ${hex(e.value)}`;
    case 'stop':
      return `stop (${e.reason}): ${e.message}`;
    case 'exception':
      return `exception ${e.vector} ${e.name}${e.errorCode !== undefined ? ` (error code ${hex(e.errorCode)})` : ''}`;
    case 'interrupt':
      return `interrupt ${e.vector} (${e.source})`;
    case 'hypercall':
      return `hypercall ${e.name} (${e.number}) → ${hex(e.result)}${e.rejected ? ` rejected: ${e.rejected}` : ''}`;
    case 'pt-write':
      return `guest PT write at gpa ${hex(e.gpa)} (gva ${hex(e.gva)}): ${e.action}, ${e.shadowEntriesChanged} shadow entries changed`;
    case 'shadow-sync':
      return `shadow sync (${e.cause})${e.gva !== undefined ? ` ${hex(e.gva)}` : ''}: ${e.entriesChanged} entries`;
    case 'invept':
      return `INVEPT type ${e.type}: ${e.entriesRemoved} entries`;
    case 'invvpid':
      return `INVVPID type ${e.type}${e.vpid !== undefined ? ` VPID ${e.vpid}` : ''}: ${e.entriesRemoved} entries`;
    default:
      return (e as { kind: string }).kind;
  }
}
