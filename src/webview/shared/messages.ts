// The messages between the extension host and the three webviews, declared once and imported by
// both sides. The host sends data (the adapter's wire payloads as they came, plus what the host
// knows about the stop); a webview sends user intents only. Type-only plus a few guards: it pulls
// no vscode and no DOM into either bundle.
import type {
  EventsWire, FrameMapWire, LoggedEventWire, OvercommitResponseWire, TlbWire, TranslationWire,
} from '../../debugAdapter/viewsProtocol';
import type { WalkAccess } from '../../engine/mmu/walkRecord';

/** The stop a payload describes: which session stop and which vCPU the user has selected. */
export interface StopRef {
  /** Increments at each stop of the session: payloads of different stops never mix. */
  stopCount: number;
  vm: number;
  vcpu: number;
  /** The thread's name as the CALL STACK shows it, e.g. `vm1/vcpu0`. */
  thread: string;
  /** DAP stopped reason (`exception`, `step`, `breakpoint`, ...). */
  reason: string;
  /** The adapter's words for the stop, e.g. "Hidden page fault at gva 0x00401000 (...)": guest-influenced text. */
  description?: string;
}

/** No payload to show: why. Sent when a session is missing, running, or the request failed. */
export interface PhaseMessage {
  type: 'phase';
  phase: 'none' | 'running' | 'error';
  /** For 'error': what failed, in words. */
  message?: string;
}

// ---- Address Translation ----

/** Where the gva on display came from. */
export type GvaSource = 'focus' | 'typed' | 'command';

export interface TranslationQuery {
  gva: string;
  access: WalkAccess;
  user: boolean;
}

/** The vCPU's TLB tag and counters (`vmem/tlb` without its entries). */
export type TlbTagWire = Omit<TlbWire, 'entries'>;

export interface TranslationMessage {
  type: 'translation';
  stop: StopRef;
  query: TranslationQuery;
  source: GvaSource;
  walk: TranslationWire;
  tlbTag: TlbTagWire | null;
  /** The same query on the same vCPU at an earlier stop: what the changed marks compare with. */
  previous?: { stopCount: number; walk: TranslationWire; tlbTag: TlbTagWire | null };
}

/** The translation request failed for this query (e.g. an address that does not parse). */
export interface TranslationErrorMessage {
  type: 'translationError';
  stop: StopRef;
  query: TranslationQuery;
  message: string;
}

export type TranslationHostMessage = PhaseMessage | TranslationMessage | TranslationErrorMessage;

export type TranslationIntent =
  | ReadyIntent
  | { type: 'translate'; query: TranslationQuery }
  /** Back to the stop's focus address (the current fault or last access). */
  | { type: 'followFocus'; access?: WalkAccess; user?: boolean }
  | OpenMemoryIntent;

// ---- Machine Memory ----

export interface FrameMapMessage {
  type: 'frameMap';
  stop: StopRef;
  /** The range asked for ([fromMpn, toMpn)); `map.runs` overlap it. */
  fromMpn: number;
  toMpn: number;
  /** The guest-physical window asked for ([fromPpn, toPpn)); each of `map.guest`'s runs cover it, clipped to the VM. */
  fromPpn: number;
  toPpn: number;
  map: FrameMapWire;
}

export type MemoryHostMessage = PhaseMessage | FrameMapMessage;

export type MemoryIntent =
  | ReadyIntent
  /** The frames on screen changed: send runs for this range. */
  | { type: 'viewport'; fromMpn: number; toMpn: number }
  /** The guest strips' window changed (paging, resizing): send guest pages for this range. */
  | { type: 'guestWindow'; fromPpn: number; toPpn: number }
  | OpenMemoryIntent;

// ---- Event Timeline ----

/** A stop marked on the timeline: where (the stopped VM's instruction count) and why. */
export interface StopMark {
  stopCount: number;
  vm: number;
  icount: number;
  reason: string;
  description?: string;
}

export interface EventsMessage {
  type: 'events';
  /** true: drop what you hold (a new session, or time travel rewound the log); `events` is everything. */
  reset: boolean;
  /** Events new since the last message (seq ascending). */
  events: LoggedEventWire[];
  /** The log's counters (all events ever logged, by kind: not only those captured). */
  total: EventsWire['total'];
  capacity: EventsWire['capacity'];
  counts: EventsWire['counts'];
  /** Every stop of the session so far. */
  stops: StopMark[];
  /** The stop on display, when stopped; undefined while running. */
  stop?: StopRef;
  /** VM number → its name. */
  vmNames: Record<number, string>;
}

export type TimelineHostMessage = PhaseMessage | EventsMessage;

export type TimelineIntent =
  | ReadyIntent
  /** Show the Address Translation panel for this gva. */
  | { type: 'showTranslation'; gva: string }
  | OpenMemoryIntent;

// ---- Memory Overcommit ----

export interface OvercommitMessage {
  type: 'overcommit';
  /** The stop it describes; absent for an update sent while the machine runs. */
  stop?: StopRef;
  body: OvercommitResponseWire;
}

export type OvercommitHostMessage = PhaseMessage | OvercommitMessage;

export type OvercommitIntent = ReadyIntent;

// ---- shared intents ----

export interface ReadyIntent {
  type: 'ready';
}

/** Open a memory reference (`mpa:0x…`, `gpa:<vm>:0x…`, `gva:<vm>/<vcpu>:0x…`) in VS Code's memory view. */
export interface OpenMemoryIntent {
  type: 'openMemory';
  reference: string;
  /** What the editor tab calls it, e.g. `mpn 0x1f`. */
  label: string;
}

/** What each panel keeps in the webview's state (getState/setState) to come back after a reload. */
export interface TranslationViewState {
  query?: TranslationQuery;
  source?: GvaSource;
  /** The translation last drawn: a restored panel shows it at once (marked as restored) until the host answers. */
  shown?: TranslationMessage;
}
export interface MemoryViewState {
  colourBy: 'use' | 'owner';
  selectedMpn?: number;
  scrollTop?: number;
  /** The guest strips' first ppn. */
  fromPpn?: number;
}
export interface OvercommitViewState {
  /** Chart series switched off in the legend (e.g. 'target', 'balloon'). */
  hiddenSeries?: string[];
}
export interface TimelineViewState {
  vm?: number;
  selectedBucket?: number;
  hiddenKinds?: string[];
}

/** The id of the page shell's "Loading…" line, which each bundle removes when it draws its own. */
export const BOOT_ELEMENT_ID = 'vmem-boot';

const MEMORY_REF = /^(mpa:0x[0-9a-f]+|gpa:\d+:0x[0-9a-f]+|gva:\d+\/\d+:0x[0-9a-f]+)$/i;

/** A memory reference a webview may ask to open: the three address spaces, nothing else. */
export function isMemoryReference(s: unknown): s is string {
  return typeof s === 'string' && MEMORY_REF.test(s);
}

const GVA = /^(0x[0-9a-f]{1,16}|[0-9]{1,20})$/i;

/** Parses a typed address (hex with 0x, or decimal) into a canonical 0x string; undefined if it is not one. */
export function parseGva(text: string): string | undefined {
  const t = text.trim().replace(/[_`']/g, '');
  if (!GVA.test(t)) return undefined;
  const v = BigInt(t);
  if (v >= 1n << 64n) return undefined;
  return '0x' + v.toString(16);
}

/** Messages arrive untyped from the other side: check the discriminant before trusting a shape. */
export function hasType<T extends { type: string }>(m: unknown, ...types: T['type'][]): m is T {
  return typeof m === 'object' && m !== null && types.includes((m as { type: unknown }).type as T['type']);
}
