// The Events view as plain data: a local copy of the adapter's event ring, grown with only what
// is new (`after`), trimmed to the ring's capacity, cut back when time travel rewinds the log;
// rows grouped by kind with the log's counts, newest first, each with its icount, vCPU and the
// adapter's own one-sentence description.
import type { EngineEvent, EventKind } from '../../../engine/events';
import type { EventsWire, LoggedEventWire } from '../../../debugAdapter/viewsProtocol';
import { describeEvent } from '../../../debugAdapter/runtime/eventFilters';
import { escapeMarkdown, thousands } from '../format';
import type { Row } from '../row';

/** Fields that are bigints in the engine and 0x strings on the wire. */
const BIGINT_FIELDS = new Set(['gva', 'rip', 'oldValue', 'newValue', 'qualification', 'guestLinear', 'guestPhysical', 'gpa', 'entry', 'result', 'eptp']);

/** The engine event a wire event was (hex strings back to bigints), for describeEvent. */
export function fromWire(e: LoggedEventWire['event']): EngineEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (typeof v === 'string' && (BIGINT_FIELDS.has(k) || (k === 'value' && e.kind === 'msr-write'))) out[k] = BigInt(v);
    else if (k === 'args' && Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? BigInt(x) : x));
    else out[k] = v;
  }
  return out as unknown as EngineEvent;
}

export class EventStore {
  private events: LoggedEventWire[] = [];
  private countsNow: Partial<Record<EventKind, number>> = {};
  private totalNow = 0;
  private capacityNow = 1000;

  /** The `after` to ask with: the last seq held. */
  get after(): number {
    return this.events.length ? this.events[this.events.length - 1].seq : -1;
  }

  get counts(): Partial<Record<EventKind, number>> {
    return this.countsNow;
  }

  get total(): number {
    return this.totalNow;
  }

  get capacity(): number {
    return this.capacityNow;
  }

  get size(): number {
    return this.events.length;
  }

  /** Adds an `after` answer. Returns true when anything the view shows changed. */
  merge(p: EventsWire): boolean {
    let changed = false;
    // Time travel rewound the log: what we hold from the undone future is gone.
    if (p.total <= this.after) {
      this.events = this.events.filter((e) => e.seq < p.total);
      changed = true;
    }
    const fresh = p.events.filter((e) => e.seq > this.after).sort((a, b) => a.seq - b.seq);
    if (fresh.length) {
      this.events.push(...fresh);
      changed = true;
    }
    this.capacityNow = p.capacity;
    if (this.events.length > p.capacity) this.events = this.events.slice(this.events.length - p.capacity);
    if (p.total !== this.totalNow || JSON.stringify(p.counts) !== JSON.stringify(this.countsNow)) changed = true;
    this.totalNow = p.total;
    this.countsNow = p.counts;
    return changed;
  }

  clear(): void {
    this.events = [];
    this.countsNow = {};
    this.totalNow = 0;
  }

  /** Groups by kind, most frequent first; the log's counts, the held events newest first. */
  groups(): EventGroup[] {
    const byKind = new Map<string, LoggedEventWire[]>();
    for (const e of this.events) {
      const list = byKind.get(e.event.kind) ?? [];
      list.push(e);
      byKind.set(e.event.kind, list);
    }
    const kinds = new Set<string>([...Object.keys(this.countsNow), ...byKind.keys()]);
    return [...kinds]
      .map((kind) => ({ type: 'group' as const, id: `ev/${kind}`, kind, count: this.countsNow[kind as EventKind] ?? byKind.get(kind)?.length ?? 0, events: (byKind.get(kind) ?? []).slice().reverse() }))
      .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  }
}

export interface EventGroup {
  type: 'group';
  id: string;
  kind: string;
  /** Events of this kind logged so far (the log's count; more than it holds once the ring wrapped). */
  count: number;
  /** Newest first. */
  events: LoggedEventWire[];
}

export interface EventRow {
  type: 'event';
  id: string;
  logged: LoggedEventWire;
}

export type EventNode = EventGroup | EventRow;

export function eventRows(g: EventGroup): EventRow[] {
  return g.events.map((e) => ({ type: 'event', id: `${g.id}/${e.seq}`, logged: e }));
}

const KIND_ICONS: Partial<Record<string, string>> = {
  'page-fault': 'warning', 'vm-exit': 'debug-step-out', 'ept-violation': 'shield', 'ept-misconfig': 'error', invlpg: 'trash',
  'cr3-write': 'arrow-swap', 'cr-write': 'edit', 'tlb-flush': 'clear-all', hypercall: 'call-outgoing', 'pt-write': 'pencil', 'shadow-sync': 'sync',
  console: 'output', interrupt: 'zap', exception: 'bug', halt: 'debug-pause', stop: 'debug-stop',
};

export function groupRow(g: EventGroup): Row {
  const held = g.events.length;
  return {
    id: g.id, label: g.kind, description: held < g.count ? `${thousands(g.count)} (latest ${thousands(held)} shown)` : thousands(g.count),
    icon: { id: KIND_ICONS[g.kind] ?? 'circle-outline' }, collapsible: 'collapsed', contextValue: 'vmemEventGroup',
  };
}

/** The linear address an event is about, if any (what a click translates). */
export function eventGva(e: LoggedEventWire['event']): string | undefined {
  const r = e as Record<string, unknown>;
  const v = r.gva ?? r.guestLinear;
  return typeof v === 'string' ? v : undefined;
}

export function eventRow(r: EventRow, vmName: (vm: number) => string): Row {
  const e = r.logged.event;
  const text = describeEvent(fromWire(e));
  const gva = eventGva(e);
  const where = `${vmName(r.logged.vm)}/vcpu${e.vcpu}`;
  return {
    id: r.id,
    label: text,
    description: `icount ${thousands(e.icount)} · ${where}`,
    tooltip: `${escapeMarkdown(text)}  \n#${r.logged.seq} · icount ${thousands(e.icount)} · ${escapeMarkdown(where)} · rip ${escapeMarkdown(String(e.rip))}${gva ? `  \nclick: translate ${gva}` : ''}`,
    icon: { id: KIND_ICONS[e.kind] ?? 'circle-outline' },
    collapsible: 'none',
    contextValue: gva ? 'vmemEvent.gva' : 'vmemEvent',
    command: gva ? { command: 'vmem.showAddressTranslation', title: 'Show Address Translation', args: [gva] } : undefined,
  };
}
