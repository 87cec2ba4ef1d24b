// At most one call per interval, the last value winning (a trailing call is never lost, so the
// final state while running is always shown).

export interface Throttled<T> {
  (value: T): void;
  /** Drops a pending trailing call. */
  cancel(): void;
}

export function throttle<T>(fn: (value: T) => void, intervalMs: number, now: () => number = Date.now): Throttled<T> {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  const run = (value: T): void => {
    last = now();
    fn(value);
  };
  const call = ((value: T): void => {
    const wait = last + intervalMs - now();
    if (wait <= 0 && !timer) {
      run(value);
      return;
    }
    pending = { value };
    if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        const p = pending;
        pending = undefined;
        if (p) run(p.value);
      }, Math.max(0, wait));
    }
  }) as Throttled<T>;
  call.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  return call;
}
