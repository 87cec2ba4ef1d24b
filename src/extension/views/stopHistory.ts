// What a view saw at the previous stop, to mark what changed since. Each key (a table, a TLB)
// keeps the values of at most its last two stops; a comparison is made only against exactly the
// previous stop, because a table last read two stops ago says nothing about "since the last stop".

export class StopHistory<V> {
  private readonly byKey = new Map<string, { stop: number; value: V }[]>();

  /** Records what `key` held at `stop` (replacing an earlier read in the same stop). */
  record(key: string, stop: number, value: V): void {
    const list = this.byKey.get(key) ?? [];
    const last = list[list.length - 1];
    if (last && last.stop === stop) last.value = value;
    else {
      list.push({ stop, value });
      if (list.length > 2) list.shift();
    }
    this.byKey.set(key, list);
  }

  /** What `key` held at stop `stop - 1`, if it was read then. */
  previous(key: string, stop: number): V | undefined {
    return this.byKey.get(key)?.find((s) => s.stop === stop - 1)?.value;
  }

  clear(): void {
    this.byKey.clear();
  }
}
