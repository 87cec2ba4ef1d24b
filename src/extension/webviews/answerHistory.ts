// Each query's answer at the latest stop and at the stop before it (per key), so a panel can
// send "what it was" beside "what it is". Bounded: the oldest keys are forgotten first.

export interface Stamped<T> {
  stopCount: number;
  value: T;
}

export class AnswerHistory<T> {
  private readonly entries = new Map<string, { current: Stamped<T>; previous?: Stamped<T> }>();

  constructor(private readonly capacity = 64) {}

  /**
   * Records `value` as the answer for `key` at `stopCount` and returns the answer of an earlier
   * stop to compare it with (undefined the first time). Asking again at the same stop (a
   * selection change, a panel shown again) keeps the same baseline.
   */
  record(key: string, stopCount: number, value: T): Stamped<T> | undefined {
    const e = this.entries.get(key);
    this.entries.delete(key);
    let next: { current: Stamped<T>; previous?: Stamped<T> };
    if (!e) next = { current: { stopCount, value } };
    else if (stopCount > e.current.stopCount) next = { current: { stopCount, value }, previous: e.current };
    else if (stopCount === e.current.stopCount) next = { current: { stopCount, value }, previous: e.previous };
    // Time went backwards (a new session reusing counts): start over.
    else next = { current: { stopCount, value } };
    this.entries.set(key, next);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return next.previous;
  }

  clear(): void {
    this.entries.clear();
  }
}
