// The wire types of the views' custom requests and events (docs/views-protocol.md), written once
// and shared by the adapter (which builds them), the extension (which asks for them) and the
// webviews (which draw them). Type-only: importing this file pulls no code into a bundle.
// On the wire every bigint is a 0x-prefixed hex string (inspect/json.ts); `Wire<T>` says so.
import type { EngineEvent, EventKind } from '../engine/events';
import type { TlbCounters, TlbEntryInfo } from '../engine/mmu/tlb';
import type { WalkAccess } from '../engine/mmu/walkRecord';
import type { FrameUse } from '../engine/machine/frameTable';
import type { PageState } from '../engine/vmm/p2m';
import type { StatisticsSnapshot } from '../engine/statistics';
import type { TableKind, TablePayload, TableRoot } from './inspect/tables';
import type { TranslationProbe } from './inspect/translation';
import type { OvercommitSnapshot, VmOvercommitSnapshot } from '../engine/memory/overcommit/overcommitSnapshot';
import type { SchedSample, VmSample } from '../engine/memory/overcommit/policy/schedHistory';

/** T as JSON carries it: bigints become hex strings, everything else keeps its shape. */
export type Wire<T> = T extends bigint
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type { TableKind };
export type TableRootWire = Wire<TableRoot>;
export type TablePayloadWire = Wire<TablePayload>;
export type TableEntryWire = TablePayloadWire['entries'][number];
export type TranslationWire = Wire<TranslationProbe>;

export interface TableEntriesArgs {
  vm: number;
  kind: TableKind;
  address: number;
  level: number;
  paging?: TableRoot['paging'];
  vcpu?: number;
  base?: number;
  includeNotPresent?: boolean;
}

/** `vmem/tables`: several tables in one round trip, each as `vmem/tableEntries` takes it. */
export interface TablesArgs {
  tables: TableEntriesArgs[];
}

/** One table of a `vmem/tables` answer, in the order asked: its payload, or why it could not be read. */
export type TableResultWire = { ok: true; table: TablePayloadWire } | { ok: false; error: string };

export interface TablesWire {
  tables: TableResultWire[];
}

export interface WalkArgs {
  vm: number;
  vcpu: number;
  /** A number or a 0x string (64-bit gvas do not fit a JSON number). */
  gva: number | string;
  access?: WalkAccess;
  user?: boolean;
}

export type TlbEntryWire = Omit<TlbEntryInfo, 'rights'> & { write: boolean; user: boolean; execute: boolean; mine: boolean };

export interface TlbWire {
  vm: number;
  vcpu: number;
  /** Absent when the vCPU has no hardware TLB of its own to show. */
  vpid?: number;
  pcid?: number;
  capacity?: number;
  counters?: TlbCounters;
  vmCounters?: TlbCounters;
  /** Under a hypervisor every VM shares the host TLB; `mine` marks this vCPU's VPID. */
  shared?: boolean;
  entries: TlbEntryWire[];
}

export interface LoggedEventWire {
  seq: number;
  vm: number;
  event: Wire<EngineEvent>;
}

export interface EventsWire {
  /**
   * Events logged so far (the next seq). It goes down when time travel rewinds the log: a
   * client whose last seen seq is ≥ total lost the events it holds from the undone future.
   */
  total: number;
  capacity: number;
  counts: Partial<Record<EventKind, number>>;
  events: LoggedEventWire[];
}

export interface VmStatisticsWire extends Partial<StatisticsSnapshot> {
  vm: number;
  name: string;
  mode: string;
  instructions: number;
  modeStats: Record<string, number>;
}

export interface StatisticsWire {
  instructions: number;
  vms: VmStatisticsWire[];
}

export interface FrameRunWire {
  mpn: number;
  count: number;
  /** 0 the hypervisor, -1 free, else the VM's owner id. */
  owner: number;
  ownerName: string;
  use: FrameUse;
  /** Use 'shared' only: each frame's reference count — the guest pages, of any VM, mapping it (index i: frame mpn + i). */
  refs?: number[];
}

export type { PageState };

/** Guest pages ppn..ppn+count-1, all in one p2m state. */
export interface GuestPageRunWire {
  ppn: number;
  count: number;
  state: PageState;
  /** 'shared' only: each page's shared machine frame and that frame's reference count (index i: page ppn + i). */
  mpns?: number[];
  refs?: number[];
  /** 'swapped' only: each page's slot in the VM's swap file. */
  slots?: number[];
}

/** One VM's guest-physical pages by p2m state: counts over the whole VM, runs over the requested ppn window. */
export interface GuestPagesWire {
  vm: number;
  name: string;
  pages: number;
  counts: Record<PageState, number>;
  /** The window the runs cover, [fromPpn, toPpn), clipped to the VM's memory. */
  fromPpn: number;
  toPpn: number;
  /** The VM's swap file, whose slots `slots` number. */
  swapFile: string;
  runs: GuestPageRunWire[];
}

export interface FrameMapWire {
  native: boolean;
  total: number;
  free?: number;
  /** Native mode: frames the guest has touched. */
  touched?: number;
  owners: Record<string, Partial<Record<FrameUse, number>>>;
  runs: FrameRunWire[];
  /** Under a hypervisor: each VM's guest-physical pages by state (ballooned and swapped pages have no machine frame to draw). */
  guest?: GuestPagesWire[];
}

/** What a stop of one vCPU is about (`vmem/context`). */
export interface ContextWire {
  /** Instructions retired by the whole machine: the same for every refresh of one stop. */
  icount: number;
  /** 0x gva to open the views on, or null when the vCPU has translated nothing yet. */
  focusAddress: string | null;
  access: WalkAccess;
  /** 'fault': the faulting gva of the event that stopped it (or its last walk faulted); 'access': its last translated access. */
  source: 'fault' | 'access' | 'none';
}

/** ρ as JSON carries it: null stands for +∞ (a VM holding no pages; JSON has no Infinity). */
export type RhoWire = number | null;
export type OvercommitVmWire = Omit<VmOvercommitSnapshot, 'rho'> & { rho: RhoWire };
export type OvercommitVmSampleWire = Omit<VmSample, 'rho'> & { rho: RhoWire };
export type OvercommitSampleWire = Omit<SchedSample, 'vms'> & { vms: OvercommitVmSampleWire[] };

/** The machine's memory management at this moment (`vmem/overcommit`): OvercommitSnapshot with ρ as RhoWire. */
export interface OvercommitWire extends Omit<OvercommitSnapshot, 'vms' | 'history'> {
  enabled: true;
  vms: OvercommitVmWire[];
  history: OvercommitSampleWire[];
}

/** No memory scheduler to show (native mode, or a machine whose memory is not managed): why, in words. */
export interface OvercommitDisabledWire {
  enabled: false;
  why: string;
}

export type OvercommitResponseWire = OvercommitWire | OvercommitDisabledWire;

/** Every custom request: its arguments and its response body. */
export interface ViewRequests {
  'vmem/tableRoots': { args: Record<string, never>; body: TableRootWire[] };
  'vmem/tableEntries': { args: TableEntriesArgs; body: TablePayloadWire };
  'vmem/tables': { args: TablesArgs; body: TablesWire };
  'vmem/walk': { args: WalkArgs; body: TranslationWire };
  'vmem/tlb': { args: { vm: number; vcpu: number }; body: TlbWire };
  'vmem/events': { args: { limit?: number; after?: number }; body: EventsWire };
  'vmem/statistics': { args: Record<string, never>; body: StatisticsWire };
  'vmem/frameMap': { args: { fromMpn?: number; toMpn?: number; fromPpn?: number; toPpn?: number }; body: FrameMapWire };
  'vmem/context': { args: { vm: number; vcpu: number }; body: ContextWire };
  'vmem/overcommit': { args: Record<string, never>; body: OvercommitResponseWire };
}

export type ViewRequestName = keyof ViewRequests;

/** `translate <gva>` in the Debug Console: the client opens its Address Translation view on this walk. */
export interface ShowTranslationWire {
  /** The vCPU the console line was evaluated on (the frame's thread). */
  vm: number;
  vcpu: number;
  /** 0x gva, the 64-bit pattern. */
  gva: string;
  access: WalkAccess;
  user: boolean;
}

/**
 * What a stop is about, sent right after every DAP `stopped` event (and that stop's
 * `vmem/statistics`): the stopped thread's VM and vCPU and its `vmem/context`, so that a client
 * knows the stop without asking (no `threads` or `vmem/context` round trip).
 */
export interface StopContextWire {
  /** The `stopped` event's threadId. */
  threadId: number;
  /** 1-based VM id and vCPU index of that thread, as the views' requests take them. */
  vm: number;
  vcpu: number;
  context: ContextWire;
}

/** Custom events the adapter sends. */
export interface ViewEvents {
  /** At every stop and at most every 500 ms while running. */
  'vmem/statistics': StatisticsWire;
  /** Right after every `stopped` event and its `vmem/statistics`. */
  'vmem/stopped': StopContextWire;
  /** After a Debug Console `translate` (alias `xlat`), before its evaluate response. */
  'vmem/showTranslation': ShowTranslationWire;
}
