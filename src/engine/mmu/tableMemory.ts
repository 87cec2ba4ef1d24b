// The one door through which the walker touches paging structures. Native mode reads guest
// physical memory directly; nested mode will translate each table reference gpa→mpa (and may
// abort the walk with an EPT exit by throwing) and shadow mode reads its own tables — all
// without changing the walker.
import type { PhysicalMemory } from '../memory/physicalMemory';
import type { SecondStageWalk, WalkRecord } from './walkRecord';
import type { WalkContext } from './walker';

export interface TableMemory {
  /** One aligned 32-bit half of an entry (entries are 4 or 8 bytes). */
  read32(pa: number): number;
  /**
   * Writes back the low half of an entry whose A/D bits the walker set. x86 does this with a
   * locked read-modify-write; the walker never changes any other bit.
   */
  writeAccessedDirty(pa: number, low32: number): void;
  /**
   * Nested paging: the second-stage walk made to translate the entry read last (the walker
   * attaches it to that level), or undefined. Native table memory has none.
   */
  takeSecondStage?(): SecondStageWalk | undefined;
}

/** A combined (first stage ∘ second stage) translation for the TLB. */
export interface CombinedMapping {
  /** Machine address of the start of the combined page. */
  frameBase: number;
  /** min(first-stage page, second-stage page). */
  pageSize: number;
  /** The second stage allows writes and (with its A/D on) its D is set: else the entry is cached not-dirty, so every write re-walks. */
  writable: boolean;
  executable: boolean;
  /** false: use once, do not cache (e.g. an address the VMM emulates). */
  cacheable: boolean;
}

/**
 * The second translation stage (nested paging): gpa → mpa for a walk's final address. It may
 * abort the access by throwing (a VM exit); with CR0.PG=0 it translates linear = guest-physical.
 */
export interface SecondStage {
  translateFinal(rec: WalkRecord, linear: number): CombinedMapping;
  /**
   * A write through a cached combined entry whose guest half is dirty and writable, but which
   * the second stage kept not-dirty: the second-stage walk of gpa for a write alone (it may
   * throw a VM exit). True when the entry may now be marked dirty.
   */
  recheckWrite?(gpa: number, linear: number, guest: { user: boolean; execute: boolean }): boolean;
  /** A fast path for the common 2-D walk (one per MMU: it keeps that MMU's last walk). */
  createFastMiss?(): FastMiss | undefined;
}

/**
 * The simulator's shortcut for a TLB miss whose 2-D walk has no side effects (every entry
 * present, well-formed, A (and D) already set, the access allowed at both stages): it reads
 * the entries into preallocated arrays and builds no record. The WalkRecord — exactly the one
 * the full walk would have made — is materialised from those entries only when someone asks.
 * Anything else (a guest fault, an exit it does not reproduce exactly, an A/D write, a walk
 * cache) makes tryMiss return false having changed nothing, and the MMU makes the full walk.
 */
/**
 * What Mmu.translate returns when a fast 2-D walk ended the access with a second-stage exit
 * (an EPT violation) instead of throwing it: exits are frequent (every first touch of a page)
 * and a thrown exception costs microseconds. Only the nested port sees it: it takes the exit
 * the fast walk left and hands it to the VMM, as it does a thrown one.
 */
export const SECOND_STAGE_EXIT = -2;

export interface FastMiss {
  /**
   * true: the miss is served — a warm walk succeeded (results below), or, with `exited` set, it
   * ended in the second-stage exit the full walk would have raised from translateFinal (its
   * guest half complete), which the fast walk has left with the MMU's port; materialize() then
   * returns that failed walk's record. false: make the full walk.
   */
  tryMiss(ctx: WalkContext, linear: number, access: 0 | 1 | 2, user: boolean, ac: boolean): boolean;
  /** The last tryMiss ended in a second-stage exit (Mmu.translate returns SECOND_STAGE_EXIT). */
  exited: boolean;
  /** Results of the last successful tryMiss (the combined mapping and the guest half). */
  frameBase: number;
  pageSize: number;
  /** Guest rights (U/S, R/W accumulated; X with the second stage's X folded in). */
  write: boolean;
  user: boolean;
  execute: boolean;
  global: boolean;
  guestDirty: boolean;
  /** Second stage allows writes and its D is set. */
  writable: boolean;
  /** Guest-physical base of the combined page. */
  gpaBase: number;
  /** The record of the last tryMiss that succeeded (or threw its exit). */
  materialize(): WalkRecord;
}

export class NativeTableMemory implements TableMemory {
  constructor(private readonly mem: PhysicalMemory) {}

  read32(pa: number): number {
    return this.mem.read32(pa);
  }

  writeAccessedDirty(pa: number, low32: number): void {
    this.mem.write32(pa, low32);
  }
}
