// The VMM's side of nested paging for one VM: it owns the EPT, resolves EPT violations (lazy
// allocation on first touch, or a permission policy such as copy-on-write), ends the VM on an
// EPT misconfiguration (a VMM bug), and keeps the TLB honest with INVEPT / INVVPID whenever it
// changes an EPT entry. The guest never sees any of it.
import type { Tlb } from '../../mmu/tlb';
import { canonicalize } from '../../mmu/pagingMode';
import type { NestedMmu } from './nestedMmu';
import { PAGE_SIZE } from '../../memory/frame';
import type { Vcpu } from '../../cpu/cpu';
import { FAULT } from '../../cpu/cpu';
import type { EventStamp } from '../../events';
import type { ModeContext } from '../virtualVm';
import { ExitReason, describeQualification } from '../exitReasons';
import { Ept } from './ept';
import type { EptAccess } from './ept';
import { EPT_W, EPT_X, RWX, levelSpan, rightsText } from './eptFormat';
import type { EptRights } from './eptFormat';
import { EptExit, eptViolationQualification } from './eptExit';
import type { EptAccessContext } from './eptExit';
import { EptTranslator } from './eptTranslator';
import { EptWalkCaches } from './walkCaches';
import { backedContiguously, collapseIntoRun } from './largePages';

/** A permission violation the VMM's policy may resolve (copy-on-write, a write watch, ...). */
export interface ProtectionViolation {
  gpa: number;
  ppn: number;
  linear: number | undefined;
  access: EptAccess;
  /** Whether the gpa was a guest paging-structure entry (not the final translation). */
  pagingStructure: boolean;
  qualification: number;
  /** The rights the VMM set for the page. */
  rights: EptRights;
  vcpu: number;
}

export type ViolationResolution = { kind: 'retry' } | { kind: 'stop'; message: string };
export type ProtectionHandler = (v: ProtectionViolation, vmm: NestedVmm) => ViolationResolution | undefined;

export interface NestedStats {
  eptViolations: number;
  /** Violations resolved by mapping a guest page on first touch. */
  lazyMaps: number;
  /** ... of which needed a new machine frame (the rest were already backed, e.g. by the loader). */
  lazyAllocations: number;
  largeMappings: number;
  /** Pages moved into an aligned run to be mapped large. */
  collapsedPages: number;
  protectionViolations: number;
  misconfigurations: number;
  /** Accesses to guest-physical addresses beyond the VM's memory (emulated as an empty bus). */
  emptyBusExits: number;
  invept: number;
  invvpid: number;
  /** EPT leaves the p2m mapper dropped or write-protected (swap, balloon, sharing, sampling). */
  revocations: number;
  /** Write violations on a shared (read-only) page resolved by copy-on-write. */
  cowBreaks: number;
}

/** The nested VMs sharing each host TLB: INVEPT all-context reaches all of them. */
const NESTED_BY_TLB = new WeakMap<Tlb, Set<NestedVmm>>();

const NO_RIGHTS: EptRights = { read: false, write: false, execute: false };

/** What the VMM does for an access to a gpa beyond the VM's memory. */
export const EMPTY_BUS_RESOLUTION = 'no memory at this gpa: reads return all ones, writes are dropped';

/**
 * A violation that keeps coming back after being "resolved" is a VMM bug: end the VM. One access
 * needs up to five gpas resolved (four guest tables and the page), and on an overcommitted
 * machine each resolution may reclaim at once — a page of the same walk that was resident, picked
 * at random, faults again on the retry — so the bound leaves room for that before calling it a bug.
 */
const MAX_RETRIES = 64;

export class NestedVmm {
  readonly ept: Ept;
  readonly caches: EptWalkCaches | null;
  readonly translator: EptTranslator;
  readonly stats: NestedStats = {
    eptViolations: 0, lazyMaps: 0, lazyAllocations: 0, largeMappings: 0, collapsedPages: 0,
    protectionViolations: 0, misconfigurations: 0, emptyBusExits: 0, invept: 0, invvpid: 0, revocations: 0, cowBreaks: 0,
  };
  /** VPIDs of this VM's vCPUs (0 when VPID is off). */
  readonly vpids = new Set<number>();
  private hostTlb: Tlb | null = null;
  /** Rights the VMM imposes on guest pages (by ppn); every other page is mapped RWX. */
  private readonly protections = new Map<number, EptRights>();
  readonly protectionHandlers: ProtectionHandler[] = [];
  /** The vCPU currently in a translation (for exits raised from the table memory). */
  currentVcpu = 0;
  /** Each vCPU's MMU port (registered by attach). */
  readonly ports: NestedMmu[] = [];

  constructor(readonly ctx: ModeContext) {
    const o = ctx.options.nested;
    this.ept = new Ept(ctx.machine, ctx.vmId, o.eptLevels ?? 4, o.accessedDirty, ctx.maxPhyAddr);
    this.caches = o.walkCaches ? new EptWalkCaches(this.ept.levels) : null;
    this.translator = new EptTranslator(this.ept, ctx.machine.bytes, ctx.guest.size, this.caches, { emptyBus: (c) => this.emptyBus(c) });
  }

  /** The host TLB the VM's vCPUs use (null before the first vCPU is built). */
  get hostTlbRef(): Tlb | null {
    return this.hostTlb;
  }

  get guestBytes(): number {
    return this.ctx.guest.size;
  }

  /** Registers vCPU i's host TLB and VPID (called when its MMU is built). */
  attach(port: NestedMmu, tlb: Tlb, vpid: number): void {
    this.ports[port.index] = port;
    this.hostTlb = tlb;
    this.vpids.add(vpid);
    let set = NESTED_BY_TLB.get(tlb);
    if (!set) NESTED_BY_TLB.set(tlb, (set = new Set()));
    set.add(this);
  }

  private vcpu(i: number): Vcpu | null {
    try {
      return this.ctx.vcpu(i);
    } catch {
      return null;
    }
  }

  private stamp(i = this.currentVcpu): EventStamp {
    const c = this.vcpu(i);
    return { icount: c?.icount ?? 0, vcpu: i, rip: c?.ripValue ?? 0n };
  }

  /** The guest-linear address field: canonical in the translating MMU's paging mode. */
  private canonical(i: number, linear: number): bigint {
    const port = this.ports[i];
    return port ? canonicalize(linear, port.hw.mode) : BigInt(linear);
  }

  // ------------------------------------------------------------------ exits

  /**
   * An EPT exit caught by vCPU i's MMU port. Returns when the access should be retried;
   * otherwise stops the vCPU and unwinds the instruction (throws the CPU's FAULT).
   */
  handleExit(e: EptExit, i: number, attempt: number): void {
    const cpu = this.vcpu(i);
    const { gpa, linear } = e.context;
    const guestLinear = linear === undefined ? undefined : this.canonical(i, linear);
    if (e.fault.kind === 'misconfig') {
      this.stats.misconfigurations++;
      // SDM §28.2.1: the guest-linear address field is defined only for EPT violations (with
      // qualification bit 7); a misconfiguration reports the gpa and no qualification.
      if (cpu) this.ctx.monitor.record(cpu, { reason: ExitReason.EPT_MISCONFIG, qualification: 0n, guestPhysical: BigInt(gpa) });
      const description = `EPT misconfiguration translating gpa 0x${gpa.toString(16)}: ${e.fault.reason}`;
      if (this.ctx.bus.wants['ept-misconfig']) {
        this.ctx.bus.emit({ kind: 'ept-misconfig', gpa: BigInt(gpa), entry: e.fault.entry, level: e.fault.level, description, ...this.stamp(i) });
      }
      this.fatal(cpu, `${description} — a VMM bug: the VM is ended`);
    }
    this.stats.eptViolations++;
    const q = eptViolationQualification(e.context, e.fault.rights);
    if (cpu) this.ctx.monitor.record(cpu, { reason: ExitReason.EPT_VIOLATION, qualification: BigInt(q), guestPhysical: BigInt(gpa), guestLinear });
    if (attempt >= MAX_RETRIES) this.fatal(cpu, `EPT violation at gpa 0x${gpa.toString(16)} still unresolved after ${MAX_RETRIES} attempts (${e.fault.reason})`);
    const ppn = Math.floor(gpa / PAGE_SIZE);
    let resolution: string;
    let stop: string | null = null;
    const rights = this.protections.get(ppn);
    const leaf = this.ept.leaf(gpa);
    const write = e.context.access === 'write' || e.context.readModifyWrite;
    // The resolution in words is for the event only: not built when nobody listens.
    const say = this.ctx.bus.wants['ept-violation'];
    if (leaf === null && (rights === undefined || rights.read)) {
      // Never mapped, or its mapping was revoked (swapped, ballooned, shared, sampled): the p2m
      // resolves the touch, the EPT maps the result.
      resolution = this.mapOnFirstTouch(gpa, write, rights, say);
    } else if (leaf !== null && write && !(leaf.lo & EPT_W) && (rights?.write ?? true) && this.ctx.p2m.stateOf(ppn) === 'shared') {
      resolution = this.breakCow(gpa, rights, say);
    } else {
      this.stats.protectionViolations++;
      const v: ProtectionViolation = {
        gpa, ppn, linear, access: e.context.access, pagingStructure: !e.context.final, qualification: q, rights: rights ?? RWX, vcpu: i,
      };
      let r: ViolationResolution | undefined;
      for (const h of this.protectionHandlers) if ((r = h(v, this))) break;
      if (r?.kind === 'retry') resolution = 'resolved by the VMM policy; the access is retried';
      else {
        stop = r?.kind === 'stop' ? r.message : `EPT violation: ${e.fault.reason} at gpa 0x${gpa.toString(16)}, which the VMM maps ${rightsText(rights ?? RWX)}, and no policy resolved it`;
        resolution = `the VM is ended: ${stop}`;
      }
    }
    if (this.ctx.bus.wants['ept-violation']) {
      this.ctx.bus.emit({
        kind: 'ept-violation', gpa: BigInt(gpa), gva: guestLinear, qualification: BigInt(q),
        description: describeQualification(ExitReason.EPT_VIOLATION, BigInt(q)), resolution, ...this.stamp(i),
      });
    }
    if (stop !== null) this.fatal(cpu, stop);
  }

  private fatal(cpu: Vcpu | null, message: string): never {
    if (cpu) cpu.stop('error', message);
    if (!cpu) throw new Error(message);
    throw FAULT;
  }

  /**
   * A gpa with no memory behind it: an EPT violation (the EPT maps nothing there) that the VMM
   * emulates as an empty bus — reads all ones, writes dropped, as natively — and resumes. No
   * EPT entry is installed, so every access exits again (see docs/vmm/nested.md for KVM's MMIO
   * sptes, which turn the repeats into misconfigurations).
   */
  private emptyBus(c: EptAccessContext): void {
    this.stats.emptyBusExits++;
    const i = this.currentVcpu;
    const q = BigInt(eptViolationQualification(c, NO_RIGHTS));
    const gpa = BigInt(c.gpa);
    const guestLinear = c.linear === undefined ? undefined : this.canonical(i, c.linear);
    const cpu = this.vcpu(i);
    if (cpu) this.ctx.monitor.record(cpu, { reason: ExitReason.EPT_VIOLATION, qualification: q, guestPhysical: gpa, guestLinear });
    if (this.ctx.bus.wants['ept-violation']) {
      this.ctx.bus.emit({
        kind: 'ept-violation', gpa, gva: guestLinear, qualification: q,
        description: describeQualification(ExitReason.EPT_VIOLATION, q), resolution: EMPTY_BUS_RESOLUTION, ...this.stamp(i),
      });
    }
  }

  // ------------------------------------------------------------------ lazy allocation

  private pageLevel(): number {
    const s = this.ctx.options.nested.eptPageSize;
    return s === '1g' ? 3 : s === '2m' ? 2 : 1;
  }

  /**
   * First touch of a guest page: back it (through the p2m) and map it in the EPT, with the
   * largest page the options allow whose whole range is guest memory, unprotected, not yet
   * partly mapped, and can be backed by an aligned machine run. Adding a mapping needs no
   * INVEPT (nothing can be cached for a not-present entry).
   */
  private mapOnFirstTouch(gpa: number, write: boolean, rights: EptRights | undefined, say: boolean): string {
    const p2m = this.ctx.p2m;
    for (let level = rights ? 1 : this.pageLevel(); level > 1; level--) {
      const span = levelSpan(level);
      const base = gpa - (gpa % span);
      const frames = span / PAGE_SIZE;
      const firstPpn = base / PAGE_SIZE;
      // A large page needs every page in it private or unbacked: a shared, swapped or ballooned
      // page has no frame of its own to put in the run.
      if (base + span > this.guestBytes || !this.ept.canMapAt(base, level) || this.anyProtected(firstPpn, frames) || !p2m.allPlain(firstPpn, frames)) continue;
      let note = 'already backed contiguously';
      if (!backedContiguously(p2m, firstPpn, frames)) {
        const c = collapseIntoRun(this.ctx.machine, p2m, this.ctx.vmId, firstPpn, frames);
        if (!c) continue;
        this.stats.collapsedPages += c.moved;
        this.stats.lazyAllocations += c.fresh;
        note = `backed by machine frames 0x${c.runMpn.toString(16)}.. (${c.moved} page(s) moved there)`;
      }
      this.ept.map(base, p2m.lookup(firstPpn) * PAGE_SIZE, level, RWX);
      this.stats.lazyMaps++;
      this.stats.largeMappings++;
      if (!say) return '';
      return `mapped gpa 0x${base.toString(16)} with a ${span === 2 ** 21 ? '2 MiB' : '1 GiB'} EPT page (${note})`;
    }
    const ppn = Math.floor(gpa / PAGE_SIZE);
    const before = p2m.stateOf(ppn);
    const slot = p2m.slotOf(ppn);
    const mpn = p2m.back(ppn, write ? 'write' : 'read');
    const shared = p2m.stateOf(ppn) === 'shared';
    // Mappings of a shared frame are read-only: a write comes back as a violation (breakCow).
    const r = rights ?? RWX;
    this.ept.map(ppn * PAGE_SIZE, mpn * PAGE_SIZE, 1, shared ? { ...r, write: false } : r);
    this.stats.lazyMaps++;
    if (before === 'unbacked' || before === 'ballooned' || before === 'swapped') this.stats.lazyAllocations++;
    if (!say) return '';
    const what = {
      unbacked: 'newly allocated',
      private: 'already backed',
      shared: shared ? `the shared frame, read-only (copy-on-write)` : 'a private copy of the shared frame (copy-on-write)',
      ballooned: 'a fresh zeroed frame: the guest touched a ballooned page (balloon popped)',
      swapped: `swapped in from slot ${slot} of the VM's swap file`,
    }[before];
    return `mapped gpa page 0x${(ppn * PAGE_SIZE).toString(16)} → machine frame 0x${mpn.toString(16)} (${what})`;
  }

  /**
   * A write to a shared page (mapped read-only): the p2m breaks the sharing — its mapper drops
   * the read-only leaf and INVEPTs — and the private copy is mapped writable.
   */
  private breakCow(gpa: number, rights: EptRights | undefined, say: boolean): string {
    const ppn = Math.floor(gpa / PAGE_SIZE);
    const old = this.ctx.p2m.lookup(ppn);
    const mpn = this.ctx.p2m.back(ppn, 'write');
    this.ept.map(ppn * PAGE_SIZE, mpn * PAGE_SIZE, 1, rights ?? RWX);
    this.stats.cowBreaks++;
    if (!say) return '';
    return `copy-on-write: gpa page 0x${(ppn * PAGE_SIZE).toString(16)} shared frame 0x${old.toString(16)} → private frame 0x${mpn.toString(16)}, mapped writable`;
  }

  /**
   * The p2m's mapper (P2mMapper.revoke): the EPT leaf of the page goes ('none') or loses W
   * ('read-only'), a large page being split to 4 KiB first so that only this page changes; then
   * INVEPT single-context, since combined and guest-physical mappings derived from the old
   * entry may be cached (the SDM requires software to invalidate after weakening an EPT entry).
   */
  revoke(ppn: number, to: 'none' | 'read-only'): void {
    const gpa = ppn * PAGE_SIZE;
    const leaf = this.ept.leaf(gpa);
    if (!leaf) return;
    if (leaf.level > 1) this.ept.splitToSmall(gpa);
    if (to === 'none') this.ept.unmap(gpa);
    else {
      const l = this.ept.leaf(gpa)!;
      if (!(l.lo & EPT_W)) return;
      this.ept.setRights(gpa, { read: true, write: false, execute: (l.lo & EPT_X) !== 0 });
    }
    this.stats.revocations++;
    this.invept(1);
  }

  private anyProtected(firstPpn: number, frames: number): boolean {
    for (const p of this.protections.keys()) if (p >= firstPpn && p < firstPpn + frames) return true;
    return false;
  }

  // ------------------------------------------------------------------ the VMM's API

  /**
   * Restricts the EPT rights of one guest page (read-only for copy-on-write or a write watch,
   * no-execute, or no access at all). Takes effect at once: a large page is split and the
   * combined translations derived from the old entry are invalidated (INVEPT single-context).
   * XWR combinations the EPT cannot express (write without read, execute-only) are refused.
   */
  protect(gpa: number, rights: EptRights): void {
    if (rights.write && !rights.read) throw new RangeError('EPT cannot map a page writable but not readable (XWR 010/110 is a misconfiguration)');
    if (rights.execute && !rights.read) throw new RangeError('this processor does not support execute-only EPT pages');
    const ppn = Math.floor(gpa / PAGE_SIZE);
    this.protections.set(ppn, { ...rights });
    const leaf = this.ept.leaf(ppn * PAGE_SIZE);
    if (leaf) {
      if (leaf.level > 1) this.ept.splitToSmall(ppn * PAGE_SIZE);
      this.ept.setRights(ppn * PAGE_SIZE, rights);
    } else if (rights.read) {
      // Map it now with the restricted rights (the first touch would otherwise map it RWX).
      const mpn = this.ctx.p2m.back(ppn);
      if (this.ept.canMapAt(ppn * PAGE_SIZE, 1)) this.ept.map(ppn * PAGE_SIZE, mpn * PAGE_SIZE, 1, rights);
    }
    this.invept(1);
  }

  /** Lifts a protection: the page is RWX again (INVEPT so no stale restricted entry lingers). */
  unprotect(gpa: number): void {
    const ppn = Math.floor(gpa / PAGE_SIZE);
    if (!this.protections.delete(ppn)) return;
    if (this.ept.leaf(ppn * PAGE_SIZE)) this.ept.setRights(ppn * PAGE_SIZE, RWX);
    this.invept(1);
  }

  rightsOf(gpa: number): EptRights | undefined {
    return this.protections.get(Math.floor(gpa / PAGE_SIZE));
  }

  /**
   * INVEPT (SDM: type 1 single-context, type 2 all-context). Hardware tags combined and
   * guest-physical mappings with the EPTP; here each VM has one EPTP and its own VPIDs, so the
   * mappings derived from an EPTP are exactly the host-TLB entries of the VPIDs that run on it,
   * plus that EPT's walk caches. Returns the entries removed.
   */
  invept(type: 1 | 2): number {
    const tlb = this.hostTlb;
    const targets = type === 1 ? [this] : [...(tlb ? NESTED_BY_TLB.get(tlb) ?? [] : [this])];
    let removed = 0;
    for (const v of targets) {
      if (tlb) for (const vpid of v.vpids) removed += tlb.flushVpid(vpid).entriesRemoved;
      removed += v.caches?.flush() ?? 0;
    }
    this.stats.invept++;
    if (this.ctx.bus.wants.invept) this.ctx.bus.emit({ kind: 'invept', type, eptp: type === 1 ? this.ept.eptp : undefined, entriesRemoved: removed, ...this.stamp() });
    return removed;
  }

  /**
   * INVVPID: 0 one address of a VPID (every PCID, globals included), 1 one VPID, 2 every VPID
   * but 0, 3 one VPID keeping global entries. Returns the entries removed, or null for an
   * invalid operand (types 0, 1, 3 with VPID 0: VMfailValid).
   */
  invvpid(type: 0 | 1 | 2 | 3, vpid: number, gva = 0): number | null {
    const tlb = this.hostTlb;
    if (!tlb) return 0;
    if (type !== 2 && vpid === 0) return null;
    let removed = 0;
    const entries = tlb.entries();
    if (type === 0) {
      for (const pcid of new Set(entries.filter((e) => e.vpid === vpid).map((e) => e.pcid))) removed += tlb.flushPage(gva, pcid, vpid).entriesRemoved;
    } else if (type === 1) removed = tlb.flushVpid(vpid).entriesRemoved;
    else if (type === 3) removed = tlb.flushVpid(vpid, true).entriesRemoved;
    else for (const v of new Set(entries.map((e) => e.vpid).filter((v) => v !== 0))) removed += tlb.flushVpid(v).entriesRemoved;
    this.stats.invvpid++;
    if (this.ctx.bus.wants.invvpid) {
      this.ctx.bus.emit({ kind: 'invvpid', type, vpid: type === 2 ? undefined : vpid, gva: type === 0 ? BigInt(gva) : undefined, entriesRemoved: removed, ...this.stamp() });
    }
    return removed;
  }
}
