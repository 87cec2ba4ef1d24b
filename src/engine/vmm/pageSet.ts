// A set of page numbers with O(1) add, delete, membership and access by position: a dense array
// of the members plus each page's position in it (-1 when absent). Deleting moves the last
// member into the hole, so positions are not stable and the order means nothing — which is what
// lets a caller draw members uniformly at random (at(⌊r·size⌋)) in O(1).
// The p2m keeps one of its private pages for the hypervisor swapper's victim choice.

export class PageSet {
  private members: Int32Array;
  private readonly position: Int32Array;
  private count = 0;

  /** For pages 0 .. pages-1; `capacity` members before the dense array grows. */
  constructor(readonly pages: number, capacity = 64) {
    this.position = new Int32Array(pages).fill(-1);
    this.members = new Int32Array(Math.max(1, Math.min(pages, capacity)));
  }

  get size(): number {
    return this.count;
  }

  has(page: number): boolean {
    return page >= 0 && page < this.pages && this.position[page] >= 0;
  }

  add(page: number): void {
    if (this.position[page] >= 0) return;
    if (this.count === this.members.length) {
      const grown = new Int32Array(Math.min(this.pages, this.members.length * 2));
      grown.set(this.members);
      this.members = grown;
    }
    this.members[this.count] = page;
    this.position[page] = this.count++;
  }

  delete(page: number): void {
    const i = this.position[page];
    if (i < 0) return;
    const last = this.members[--this.count];
    this.members[i] = last;
    this.position[last] = i;
    this.position[page] = -1;
  }

  /** The member at position i (0 <= i < size). */
  at(i: number): number {
    return this.members[i];
  }

  /** The members, in the set's current (meaningless) order. */
  toArray(): number[] {
    return Array.from(this.members.subarray(0, this.count));
  }
}
