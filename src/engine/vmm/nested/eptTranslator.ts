// The second stage as the hardware MMU sees it: a TableMemory whose every guest
// paging-structure read is first translated gpa → mpa through the EPT (the 2-D walk), and a
// SecondStage that translates the walk's final gpa. Each EPT walk is recorded and handed to
// the first-stage walker, which attaches it to the guest level it served. A failed EPT walk
// throws an EptExit, aborting the access: the nested MMU port catches it.
import type { PhysicalMemory } from '../../memory/physicalMemory';
import { PAGE_SIZE } from '../../memory/frame';
import type { CombinedMapping, FastMiss, SecondStage, TableMemory } from '../../mmu/tableMemory';
import { FastTwoDWalk } from './fastWalk';
import type { SecondStageWalk, WalkAccess, WalkRecord } from '../../mmu/walkRecord';
import type { Ept, EptAccess, EptWalkResult } from './ept';
import { EptExit } from './eptExit';
import type { EptAccessContext } from './eptExit';
import type { EptWalkCaches } from './walkCaches';

/** The VMM's side of guest-physical addresses with no memory behind them. */
export interface EmptyBusHandler {
  /** Called for each access to a gpa beyond the VM's memory (an MMIO-style exit the VMM emulates). */
  emptyBus(ctx: EptAccessContext): void;
}

/**
 * Everything the translator remembers about the access in progress. An exit handler (or an
 * event listener it calls) may make a debugger probe mid-access; the probe saves this and
 * restores it, so the access resumed — or retried — after the exit is served with its own
 * context (guest-linear address, PDPTE load, the half-read entry).
 */
export interface TranslatorState {
  readonly linear: number;
  readonly access: WalkAccess;
  readonly probe: boolean;
  readonly pdpteLoad: boolean;
  readonly pdpteWalks: SecondStageWalk[];
  readonly pending: SecondStageWalk | undefined;
  readonly pendingEntry: number;
  readonly pendingMpa: number;
}

export class EptTranslator implements TableMemory, SecondStage {
  /** Set by the port before each translation attempt: the linear address and access being served. */
  linear = 0;
  access: WalkAccess = 'read';
  /** A side-effect-free probe (debugger, audit): no exits, no A/D, no cache fills. */
  probe = false;
  /** While loading PAE PDPTE registers (no guest-linear address; never counted as writes). */
  pdpteLoad = false;
  /** The EPT walks of the last PDPTE load. */
  pdpteWalks: SecondStageWalk[] = [];

  /** Completed 2-D walks (TLB misses served) and their memory references, for statistics and benches. */
  walks = 0;
  walkReferences = 0;
  /** An EPT violation the fast walk raised without throwing; the nested port takes it (NestedMmu.translate). */
  pendingExit: EptExit | null = null;

  private pending: SecondStageWalk | undefined = undefined;
  private pendingEntry = -1;
  private pendingMpa = -1;

  constructor(
    readonly ept: Ept,
    private readonly machine: PhysicalMemory,
    /** Guest-physical memory size: gpas at or above it have no memory (reads all ones). */
    readonly guestBytes: number,
    readonly caches: EptWalkCaches | null,
    private readonly bus: EmptyBusHandler,
  ) {}

  saveState(): TranslatorState {
    return {
      linear: this.linear, access: this.access, probe: this.probe, pdpteLoad: this.pdpteLoad, pdpteWalks: this.pdpteWalks,
      pending: this.pending, pendingEntry: this.pendingEntry, pendingMpa: this.pendingMpa,
    };
  }

  restoreState(s: TranslatorState): void {
    this.linear = s.linear;
    this.access = s.access;
    this.probe = s.probe;
    this.pdpteLoad = s.pdpteLoad;
    this.pdpteWalks = s.pdpteWalks;
    this.pending = s.pending;
    this.pendingEntry = s.pendingEntry;
    this.pendingMpa = s.pendingMpa;
  }

  /** Starts a fresh access context (a probe's): no PDPTE load, nothing half-read. */
  beginProbe(linear: number, access: WalkAccess): void {
    this.linear = linear;
    this.access = access;
    this.probe = true;
    this.pdpteLoad = false;
    this.pdpteWalks = [];
    this.pending = undefined;
    this.pendingEntry = -1;
    this.pendingMpa = -1;
  }

  /** Machine addresses at or above this are a hole: reads see all ones, writes are dropped. */
  private get holeBase(): number {
    return this.machine.size;
  }

  private walkGpa(gpa: number, access: EptAccess, purpose: SecondStageWalk['purpose']): EptWalkResult {
    return this.ept.walk(gpa, access, { purpose, setAccessedDirty: !this.probe, caches: this.probe ? null : this.caches });
  }

  private tableContext(gpa: number, access: EptAccess, rmw: boolean): EptAccessContext {
    return { gpa, linear: this.pdpteLoad ? undefined : this.linear, final: false, access, readModifyWrite: rmw };
  }

  read32(gpa: number): number {
    // The high half of an 8-byte entry is the same access as its low half: one translation.
    if (this.pendingEntry >= 0 && gpa === this.pendingEntry + 4) return this.pendingMpa < 0 ? (this.pendingMpa === -2 ? 0xffffffff : 0) : this.machine.read32(this.pendingMpa + 4);
    this.pendingEntry = gpa;
    // With EPT A/D on, guest paging-structure accesses count as writes — except PDPTE loads.
    const ad = this.ept.accessedDirty && !this.pdpteLoad;
    if (gpa >= this.guestBytes) {
      // No EPT entry can exist here: the exit is a violation with the same qualification an
      // unmapped gpa would give (bits 3–5 clear).
      if (!this.probe) this.bus.emptyBus(this.tableContext(gpa, ad ? 'write' : 'read', ad));
      this.pending = undefined;
      this.pendingMpa = -2;
      return 0xffffffff;
    }
    const r = this.walkGpa(gpa, ad ? 'write' : 'read', this.pdpteLoad ? 'pdpte' : 'table');
    if (r.fault) {
      if (!this.probe) throw new EptExit(r.fault, this.tableContext(gpa, ad ? 'write' : 'read', ad), r.walk);
      this.pending = r.walk;
      this.pendingMpa = -1;
      return 0;
    }
    this.pending = r.walk;
    this.pendingMpa = r.walk.mpa!;
    if (this.pdpteLoad) this.pdpteWalks.push(r.walk);
    return this.machine.read32(this.pendingMpa);
  }

  takeSecondStage(): SecondStageWalk | undefined {
    const p = this.pending;
    this.pending = undefined;
    this.pendingEntry = -1;
    return p;
  }

  /**
   * The walker's A/D write-back into a guest entry: a locked read-modify-write of the gpa it
   * just read, so it needs EPT write permission there (with EPT A/D off, this is the only
   * walk access that does). The translation is the read's: no second EPT walk is counted.
   */
  writeAccessedDirty(gpa: number, low32: number): void {
    if (gpa >= this.guestBytes) return;
    const r = this.ept.walk(gpa, 'write', { purpose: 'table', setAccessedDirty: !this.probe, caches: null });
    if (r.fault) {
      if (this.probe) return;
      throw new EptExit(r.fault, this.tableContext(gpa, 'write', true), r.walk);
    }
    this.machine.write32(r.walk.mpa!, low32);
  }

  /** The fast warm-walk path (not with walk caches, whose fills and counts only the full walk models). */
  createFastMiss(): FastMiss | undefined {
    return this.caches === null ? new FastTwoDWalk(this.ept, this.machine, this.guestBytes, this) : undefined;
  }

  /** Second-stage writes re-checked without a guest walk (see Mmu.secondStageWrite). */
  writeRechecks = 0;

  recheckWrite(gpa: number, linear: number, guest: { user: boolean; execute: boolean }): boolean {
    if (gpa >= this.guestBytes) return false;
    const r = this.walkGpa(gpa, 'write', 'final');
    if (r.fault) {
      // The guest half allows the write (U/S and X as cached); the EPT does not.
      const ctx: EptAccessContext = { gpa, linear, final: true, access: 'write', readModifyWrite: false, guest: { user: guest.user, write: true, executeDisable: !guest.execute } };
      throw new EptExit(r.fault, ctx, r.walk);
    }
    this.writeRechecks++;
    return r.walk.rights!.write && r.dirty;
  }

  translateFinal(rec: WalkRecord, linear: number): CombinedMapping {
    const gpa = rec.physical ?? 0;
    const rights = rec.rights ?? { write: true, user: true, execute: true };
    const access: EptAccess = rec.access;
    // Advanced exit information (qualification bits 9–11): the guest's rights for the linear address.
    const guest = { user: rights.user, write: rights.write, executeDisable: !rights.execute };
    if (gpa >= this.guestBytes) {
      const ctx: EptAccessContext = { gpa, linear, final: true, access, readModifyWrite: false, guest };
      if (!this.probe) this.bus.emptyBus(ctx);
      return { frameBase: this.holeBase + (gpa - (gpa % PAGE_SIZE)), pageSize: PAGE_SIZE, writable: true, executable: true, cacheable: false };
    }
    const r = this.walkGpa(gpa, access, 'final');
    rec.finalSecondStage = r.walk;
    rec.secondStageReferences = (rec.secondStageReferences ?? 0) + r.walk.memoryReferences;
    rec.memoryReferences += r.walk.memoryReferences;
    if (r.fault) {
      const ctx: EptAccessContext = { gpa, linear, final: true, access, readModifyWrite: false, guest };
      throw new EptExit(r.fault, ctx, r.walk);
    }
    if (!this.probe) {
      this.walks++;
      this.walkReferences += rec.memoryReferences;
    }
    const size = Math.min(rec.pageSize ?? PAGE_SIZE, r.walk.pageSize ?? PAGE_SIZE);
    const eptRights = r.walk.rights!;
    return {
      frameBase: r.walk.mpa! - (gpa % size),
      pageSize: size,
      writable: eptRights.write && r.dirty,
      executable: eptRights.execute,
      cacheable: true,
    };
  }
}
