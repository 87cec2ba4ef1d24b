// The MMU's public surface.
export { Mmu, ACCESS_NAMES, GUEST_PHYSICAL_PCID } from './mmu';
export type { AccessCode, MmuOptions, PageFault } from './mmu';
export { Tlb, DEFAULT_TLB_CONFIG } from './tlb';
export type { FlushResult, TlbConfig, TlbCounters, TlbEntryInfo } from './tlb';
export { NativeTableMemory } from './tableMemory';
export type { CombinedMapping, SecondStage, TableMemory } from './tableMemory';
export { canonicalize, currentPcid, linearBits, pdpteReloadNeeded, selectPagingMode } from './pagingMode';
export type { PagingMode } from './pagingMode';
export { describeErrorCode, PF_ID, PF_P, PF_RSVD, PF_U, PF_W } from './pfErrorCode';
export { walkPageTables } from './walker';
export type { WalkContext, WalkOptions } from './walker';
export { entryName, joinEntry } from './walkRecord';
export type { EntryFlags, LevelName, Rights, SecondStageLevel, SecondStageWalk, WalkAccess, WalkLevel, WalkRecord } from './walkRecord';
