// The events a timeline has seen, accumulated across polls of the adapter's ring buffer
// (`vmem/events` with `after`). Pure: unit-tested in node.
import type { EventsWire, LoggedEventWire } from '../../debugAdapter/viewsProtocol';

/** More than a long lecture produces; the oldest go first. */
const KEEP = 50_000;

export class EventAccumulator {
  private events: LoggedEventWire[] = [];

  /** The seq to ask `after` (-1: from the beginning). */
  get lastSeq(): number {
    return this.events.length ? this.events[this.events.length - 1].seq : -1;
  }

  /**
   * Adds a poll's answer. `reset` is true when the log went backwards (time travel undid events
   * we hold: `total` is the next seq, so anything at or beyond it never happened now).
   */
  add(body: EventsWire): { fresh: LoggedEventWire[]; reset: boolean } {
    let reset = false;
    if (this.events.length && body.total <= this.lastSeq) {
      this.events = this.events.filter((e) => e.seq < body.total);
      reset = true;
    }
    const last = this.lastSeq;
    const fresh = body.events.filter((e) => e.seq > last).sort((a, b) => a.seq - b.seq);
    this.events.push(...fresh);
    if (this.events.length > KEEP) this.events = this.events.slice(this.events.length - KEEP);
    return { fresh, reset };
  }

  all(): LoggedEventWire[] {
    return [...this.events];
  }

  clear(): void {
    this.events = [];
  }
}
