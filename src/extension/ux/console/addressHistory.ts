// The last distinct gvas the Debug Console showed, newest first: what "Translate Address…"
// offers under "From the Debug Console". Seeing an address again moves it to the front with its
// newest line. Pure.
import type { HarvestedAddress } from './addressHarvest';

export const HISTORY_SIZE = 20;

export class AddressHistory {
  private items: HarvestedAddress[] = [];

  constructor(private readonly capacity = HISTORY_SIZE) {}

  /** Adds addresses in the order they were printed (the last one becomes the newest). */
  add(found: readonly HarvestedAddress[]): void {
    if (found.length === 0) return;
    // Only the newest `capacity` distinct ones can survive: walk the batch from its end.
    const fresh: HarvestedAddress[] = [];
    for (let i = found.length - 1; i >= 0 && fresh.length < this.capacity; i--) {
      if (!fresh.some((x) => x.gva === found[i].gva)) fresh.push(found[i]);
    }
    this.items = [...fresh, ...this.items.filter((x) => !fresh.some((f) => f.gva === x.gva))].slice(0, this.capacity);
  }

  /** Newest first. */
  list(): readonly HarvestedAddress[] {
    return this.items;
  }

  clear(): void {
    this.items = [];
  }
}
