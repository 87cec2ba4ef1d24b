// Recent engine events for the events view and the timeline: a bounded ring buffer fed by a
// VM's bus, with counts by kind since it started. It listens to every kind except tlb-miss
// (per-access: arming it would slow every miss) unless asked to.
import type { EngineEvent, EventBus, EventKind } from '../../engine/events';
import { EVENT_KINDS } from '../../engine/events';

export interface LoggedEvent {
  /** Sequence number since the log started (gaps show what the ring dropped). */
  seq: number;
  vm: number;
  event: EngineEvent;
}

export class EventLog {
  private readonly ring: (LoggedEvent | undefined)[];
  private next = 0;
  readonly counts: Partial<Record<EventKind, number>> = {};
  private readonly disposers: (() => void)[] = [];

  constructor(readonly capacity = 1000) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`event log capacity must be a positive integer, not ${capacity}`);
    this.ring = new Array<LoggedEvent | undefined>(capacity);
  }

  /** Starts recording a VM's bus; returns the disposer. */
  attach(bus: EventBus, vm: number, kinds: readonly EventKind[] = EVENT_KINDS.filter((k) => k !== 'tlb-miss')): () => void {
    const offs = kinds.map((k) => bus.on(k, (e: EngineEvent) => this.push(vm, e)));
    const dispose = (): void => offs.forEach((o) => o());
    this.disposers.push(dispose);
    return dispose;
  }

  push(vm: number, event: EngineEvent): void {
    this.counts[event.kind] = (this.counts[event.kind] ?? 0) + 1;
    this.ring[this.next % this.capacity] = { seq: this.next, vm, event };
    this.next++;
  }

  get total(): number {
    return this.next;
  }

  /** Up to `limit` most recent events with seq > `after`, oldest first. */
  recent(limit = 100, after = -1): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    const first = Math.max(0, this.next - this.capacity, after + 1, this.next - limit);
    for (let s = first; s < this.next; s++) out.push(this.ring[s % this.capacity]!);
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    for (const k of Object.keys(this.counts) as EventKind[]) delete this.counts[k];
  }

  dispose(): void {
    this.disposers.splice(0).forEach((d) => d());
  }
}
