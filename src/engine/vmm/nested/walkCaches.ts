// Optional caches for the second dimension of the 2-D walk (off by default, so the full cost
// shows): a nested TLB (gpa page → mpa, Bhargava et al.'s "NTLB") and EPT paging-structure
// caches (the EPT table reached for a gpa prefix, so a walk can start below the root). Both
// hold only what a successful walk produced, and both are flushed by INVEPT — they are tagged
// by EPTP in hardware, which here is one EPT per cache instance.
import { PAGE_SIZE } from '../../memory/frame';
import { levelSpan } from './eptFormat';

export interface CachedTranslation {
  /** Machine address of the 4 KiB page. */
  frame: number;
  pageSize: number;
  /** R/W/X bits ANDed over the walk. */
  rights: number;
  dirty: boolean;
}

export interface CachedTable {
  /** Level of the table's entries (1 = EPT PT). */
  level: number;
  table: number;
  rights: number;
}

export interface WalkCacheStats {
  nestedTlbHits: number;
  tableHits: number;
  lookups: number;
}

/** A small fully-associative LRU map (Map keeps insertion order: re-insert on use). */
class Lru<V> {
  private readonly map = new Map<number, V>();
  constructor(private readonly capacity: number) {}

  get(key: number): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: number, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as number);
  }

  clear(): number {
    const n = this.map.size;
    this.map.clear();
    return n;
  }

  get size(): number {
    return this.map.size;
  }
}

export class EptWalkCaches {
  private readonly ntlb: Lru<CachedTranslation>;
  /** byLevel[l]: the EPT table of level l for gpa prefix floor(gpa / levelSpan(l + 1)). */
  private readonly byLevel: Lru<CachedTable>[] = [];
  readonly stats: WalkCacheStats = { nestedTlbHits: 0, tableHits: 0, lookups: 0 };

  constructor(readonly eptLevels: number, nestedTlbEntries = 16, tableEntriesPerLevel = 8) {
    this.ntlb = new Lru(nestedTlbEntries);
    for (let l = 0; l < eptLevels; l++) this.byLevel.push(new Lru(tableEntriesPerLevel));
  }

  lookupTranslation(gpa: number): CachedTranslation | undefined {
    this.stats.lookups++;
    const t = this.ntlb.get(Math.floor(gpa / PAGE_SIZE));
    if (t) this.stats.nestedTlbHits++;
    return t;
  }

  /** The lowest cached table on gpa's path (the walk starts there), or undefined. */
  lookupTable(gpa: number): CachedTable | undefined {
    for (let l = 1; l < this.eptLevels; l++) {
      const t = this.byLevel[l].get(Math.floor(gpa / levelSpan(l + 1)));
      if (t) {
        this.stats.tableHits++;
        return t;
      }
    }
    return undefined;
  }

  fillTable(gpa: number, level: number, table: number, rights: number): void {
    if (level >= 1 && level < this.eptLevels) this.byLevel[level].set(Math.floor(gpa / levelSpan(level + 1)), { level, table, rights });
  }

  fillTranslation(gpa: number, frame: number, pageSize: number, rights: number, dirty: boolean): void {
    this.ntlb.set(Math.floor(gpa / PAGE_SIZE), { frame, pageSize, rights, dirty });
  }

  /** INVEPT: everything goes. Returns the entries removed. */
  flush(): number {
    let n = this.ntlb.clear();
    for (const c of this.byLevel) n += c.clear();
    return n;
  }

  get size(): number {
    return this.ntlb.size + this.byLevel.reduce((s, c) => s + c.size, 0);
  }
}
