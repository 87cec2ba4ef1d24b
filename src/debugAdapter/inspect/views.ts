// The custom requests' payloads (docs/views-protocol.md), each built on demand from the
// engine's current state: the walk of one address, one vCPU's TLB, statistics, the machine
// frame map, recent events. Table roots and entries are in tables.ts.
import { frameRuns } from '../../engine/machine/frameTable';
import type { FrameUse } from '../../engine/machine/frameTable';
import type { WalkAccess } from '../../engine/mmu/walkRecord';
import type { InspectTarget } from './target';
import { vmById } from './target';
import { hardwareMmu, probeTranslation } from './translation';
import { toJson } from './json';
import type { EventLog } from './eventLog';
import { focusOf } from './focus';
import type { EngineEvent } from '../../engine/events';
import type { ContextWire, EventsWire, FrameMapWire, FrameRunWire, StatisticsWire, TlbWire, TranslationWire } from '../viewsProtocol';
import { guestPages } from './guestPages';
import type { PpnWindow } from './guestPages';

export interface WalkRequest {
  vm: number;
  vcpu: number;
  /** The address as a number or a 0x string (64-bit). */
  gva: string | number;
  access?: WalkAccess;
  user?: boolean;
}

/** Guest walk, EPT steps, shadow entry and agreement, TLB entry: everything the translation view draws. */
export function walkPayload(t: InspectTarget, req: WalkRequest): TranslationWire {
  const v = vmById(t, req.vm);
  return toJson(probeTranslation(t, v, req.vcpu, BigInt(req.gva), req.access ?? 'read', req.user ?? false));
}

export function tlbPayload(t: InspectTarget, vm: number, vcpu: number): TlbWire {
  const v = vmById(t, vm);
  const mmu = hardwareMmu(v, vcpu);
  const tlb = v.vm.tlbs[vcpu];
  if (!mmu || !tlb) return toJson({ vm, vcpu, entries: [] });
  const entries = tlb.entries().map((e) => ({
    slot: e.slot, set: e.set, way: e.way, large: e.large, vpid: e.vpid, pcid: e.pcid, vpn: e.vpn, linearBase: e.linearBase,
    frame: e.frame, pageSize: e.pageSize, write: e.rights.write, user: e.rights.user, execute: e.rights.execute,
    global: e.global, dirty: e.dirty, lastUse: e.lastUse, mine: e.vpid === mmu.vpid,
  }));
  return toJson({ vm, vcpu, vpid: mmu.vpid, pcid: mmu.currentPcid, capacity: tlb.totalSlots, counters: tlb.counters(), vmCounters: v.vm.tlbCounters, shared: v.vm.mode !== 'native', entries });
}

export function statisticsPayload(t: InspectTarget): StatisticsWire {
  return toJson({
    instructions: t.vms.reduce((n, v) => n + v.vm.icount, 0),
    vms: t.vms.map((v) => ({ vm: v.id, name: v.name, mode: v.vm.mode, ...(v.stats ? v.stats.snapshot() : { instructions: v.vm.icount }), modeStats: v.instance?.stats?.() ?? {} })),
  });
}

export interface FrameMapRequest extends PpnWindow {
  /** Only runs overlapping [fromMpn, toMpn) (the map view asks for what it shows). */
  fromMpn?: number;
  toMpn?: number;
}

export function frameMapPayload(t: InspectTarget, req: FrameMapRequest = {}): FrameMapWire {
  if (!t.machine) {
    const v = t.vms[0];
    return toJson({ native: true, total: v ? v.vm.mem.size / 4096 : 0, touched: v?.vm.mem.touchedFrames ?? 0, runs: [], owners: {} });
  }
  const frames = t.machine.memory.frames;
  const census = frames.census();
  const names = (o: number): string => (o === 0 ? 'hypervisor' : o < 0 ? 'free' : t.vms.find((v) => v.p2m?.owner === o)?.name ?? `vm${o}`);
  const owners: Record<string, Record<FrameUse, number>> = {};
  for (const [o, c] of census.byOwner) owners[names(o)] = c;
  const from = req.fromMpn ?? 0;
  const to = req.toMpn ?? frames.total;
  const shared = t.machine.memory.shared;
  const runs: FrameRunWire[] = frameRuns(frames).filter((r) => r.mpn < to && r.mpn + r.count > from).map((r) => {
    const run: FrameRunWire = { ...r, ownerName: names(r.owner) };
    if (r.use === 'shared') run.refs = Array.from({ length: r.count }, (_, i) => shared.refs(r.mpn + i));
    return run;
  });
  // Plain numbers and strings throughout: no bigints for toJson to rewrite, and the guest pages
  // of a large VM are not worth a JSON round trip.
  return { native: false, total: frames.total, free: census.free, owners, runs, guest: guestPages(t, req) };
}

export function eventsPayload(log: EventLog, limit = 100, after = -1): EventsWire {
  return toJson({ total: log.total, capacity: log.capacity, counts: log.counts, events: log.recent(limit, after) });
}

/**
 * What a stop of one vCPU is about: the machine's instruction count (the same at every view's
 * refresh of one stop) and the address to open on (focus.ts). `stopEvent`: the event this vCPU
 * stopped on, if it did.
 */
export function contextPayload(t: InspectTarget, vm: number, vcpu: number, icount: number, stopEvent: EngineEvent | undefined): ContextWire {
  const v = vmById(t, vm);
  if (!v.vm.vcpus[vcpu]) throw new Error(`${v.name} has no vcpu${vcpu}`);
  const f = focusOf(v, vcpu, stopEvent);
  return { icount, focusAddress: f.address === null ? null : '0x' + BigInt.asUintN(64, f.address).toString(16), access: f.access, source: f.source };
}
