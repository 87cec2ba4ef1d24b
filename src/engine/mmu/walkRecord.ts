// A page walk as plain data: the UI draws exactly this, level by level, and tests compare it.
// Entry values are bigint because a 64-bit entry must be shown exactly; walks are built only
// on TLB misses and probes, never on the hot path.
import type { PagingMode } from './pagingMode';

export type LevelName = 'PML5' | 'PML4' | 'PDPT' | 'PD' | 'PT';
export type WalkAccess = 'read' | 'write' | 'fetch';

export interface EntryFlags {
  p: boolean; rw: boolean; us: boolean; pwt: boolean; pcd: boolean; a: boolean; d: boolean;
  /** Page size bit, only where the format has one (PDPTE in 4/5-level, PDE). */
  ps: boolean;
  /** Global: meaningful on a leaf only. */
  g: boolean;
  /** PAT: bit 7 of a PTE, bit 12 of a large leaf. */
  pat: boolean;
  /** Execute-disable (bit 63 of an 8-byte entry). */
  xd: boolean;
}

export interface Rights {
  write: boolean;
  user: boolean;
  execute: boolean;
}

export interface WalkLevel {
  level: number;
  name: LevelName;
  /** Physical address of the table this entry was read from. */
  tableAddress: number;
  index: number;
  entryAddress: number;
  /** The entry as read. */
  entry: bigint;
  /** The entry after the walk's A/D writes (equal to `entry` when none were made). */
  entryAfter: bigint;
  flags: EntryFlags;
  /** Bit numbers set in the entry that are reserved in this position and mode. */
  reservedBits: number[];
  leaf: boolean;
  /** Rights ANDed (XD ORed) over this level and the ones above it. */
  rightsSoFar: Rights;
  accessedSet: boolean;
  dirtySet: boolean;
  /** Nested paging: the second-stage (EPT) walk that translated this entry's guest-physical address. */
  secondStage?: SecondStageWalk;
}

/** One entry of a second-stage (EPT) walk, as the 2-D walk grid draws it. */
export interface SecondStageLevel {
  /** 5..1 (EPT PML5E … EPT PTE). */
  level: number;
  name: string;
  /** Machine address of the EPT table. */
  tableAddress: number;
  index: number;
  entryAddress: number;
  entry: bigint;
  /** After the EPT A/D writes (EPTP bit 6). */
  entryAfter: bigint;
  leaf: boolean;
}

/**
 * A second-stage walk (gpa → mpa) made on behalf of a first-stage walk: the translation of one
 * guest paging-structure entry's address, of the final guest-physical address, or of a PAE
 * PDPTE load. Plain data, built only on TLB misses and probes.
 */
export interface SecondStageWalk {
  gpa: number;
  purpose: 'table' | 'final' | 'pdpte';
  levels: SecondStageLevel[];
  ok: boolean;
  mpa?: number;
  /** Size of the second-stage page that mapped gpa. */
  pageSize?: number;
  /** R/W/X ANDed over the levels read. */
  rights?: { read: boolean; write: boolean; execute: boolean };
  /** Entry reads plus A/D writes; 0 when a cache supplied the whole translation. */
  memoryReferences: number;
  entryReads: number;
  adWrites: number;
  /** Levels supplied by a walk cache instead of memory (paging-structure cache / nested TLB). */
  cachedLevels: number;
  /** Why the walk stopped, when it did (violation / misconfiguration), in words. */
  outcome?: string;
}

export interface WalkRecord {
  /** Canonical 64-bit form of the linear address (what CR2 receives). */
  linear: bigint;
  mode: PagingMode;
  access: WalkAccess;
  user: boolean;
  levels: WalkLevel[];
  /**
   * Paging-structure references: one per entry read (an 8-byte entry is one reference) plus
   * one per A/D write-back. PAE PDPTEs come from registers and count nothing.
   */
  memoryReferences: number;
  entryReads: number;
  adWrites: number;
  ok: boolean;
  physical?: number;
  pageSize?: number;
  /** Physical address of the start of the page. */
  frameBase?: number;
  /** Effective rights of the translation (present when a leaf was reached). */
  rights?: Rights;
  /** The leaf's G bit, counted only with CR4.PGE. */
  global?: boolean;
  /** Leaf D bit after the walk. */
  dirty?: boolean;
  errorCode?: number;
  reason?: string;
  pdpteFromRegister?: boolean;
  /** Nested paging: the second-stage walk of the final guest-physical address. */
  finalSecondStage?: SecondStageWalk;
  /** Nested paging: references made by all second-stage walks (included in memoryReferences). */
  secondStageReferences?: number;
}

/** Entry names as the SDM and fault reasons spell them. */
export function entryName(level: LevelName): string {
  return level === 'PDPT' ? 'PDPTE' : `${level}E`;
}

/** An entry's two 32-bit halves as one bigint. */
export function joinEntry(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
