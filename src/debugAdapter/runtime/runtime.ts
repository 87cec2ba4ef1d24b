// The debugger's engine side: runs the target in slices (so a pause is answered within a few
// milliseconds), steps by source line or instruction, resolves breakpoints, arms event filters
// and data breakpoints, and reports stops and output as plain events. No DAP types here: the
// session (../session.ts) translates.
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { EngineEvent, EventKind } from '../../engine/events';
import type { Vcpu } from '../../engine/cpu/cpu';
import type { Frame as MemFrame } from '../../engine/memory/frame';
import { decode } from '../../engine/isa/encoding';
import { Op } from '../../engine/isa/opcodes';
import { eventToJson } from '../../engine/runner';
import { isTrue, interpolate, parseExpression } from './expression';
import type { EvalContext, Expression, Value } from './expression';
import { CodeBreakpointTable, compileSpec, sitesOf } from './codeBreakpoints';
import type { CodeBreakpoint, CodeBreakpointKind, CodeBreakpointSpec } from './codeBreakpoints';
import { describeEvent, eventFields, filterById } from './eventFilters';
import { evalContext, registerValue } from './evalContext';
import { locate, walkStack } from './stackWalk';
import type { Frame } from './stackWalk';
import type { LaunchConfig } from './launchConfig';
import type { DebugVm, Target, TargetRunResult } from './target';
import { EventBus } from '../../engine/events';
import { Timeline, TimeTravelError } from './timeTravel';
import type { TimePoint } from './timeTravel';
import { previousStop, stepBackGoal, travelTo } from './timeTravelRuns';
import type { TravelHost } from './timeTravelRuns';

/** The runtime's own state kept with each snapshot (the engine's is in the snapshot). */
interface TravelExtra {
  ended: boolean;
  reportedFailure: boolean;
}

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint' | 'exception' | 'pause';

export interface StopInfo {
  reason: StopReason;
  threadId: number;
  /** Words for the UI (exception and data-breakpoint stops). */
  description?: string;
  /** Short text for the UI (the filter's label). */
  text?: string;
  /** The event an event filter stopped on. */
  event?: EngineEvent;
  filterId?: string;
  hitBreakpointIds?: number[];
}

export interface BreakpointResult {
  id: number;
  verified: boolean;
  line?: number;
  message?: string;
}

export interface ThreadInfo {
  id: number;
  name: string;
}

export type StepKind = 'next' | 'in' | 'out';

/** Instructions per engine call while continuing: ~1 ms, so a pause is seen at once. */
const SLICE = 50_000;
/** Wall-clock time spent per turn of the event loop before yielding to requests. */
const TURN_MS = 15;
/** Single steps per turn while stepping by line. */
const STEPS_PER_TURN = 20_000;

interface DataBreakpoint {
  id: number;
  vm: number;
  mpa: number;
  size: number;
  description: string;
  condition?: Expression;
  hit?: (hits: number) => boolean;
  hits: number;
}

interface StepPlan {
  kind: StepKind;
  instruction: boolean;
  vm: number;
  cpu: Vcpu;
  startLine: string | undefined;
  startRsp: bigint;
  startCpl: number;
  /** Running over a call or an interrupt: until rip is one of these at this rsp and CPL. */
  over: { rips: bigint[]; rsp: bigint; cpl: number } | null;
  /**
   * The temporary breakpoints planted on `over.rips` (machine-physical, as code breakpoints
   * are): the run over runs at full engine speed to them. Null while single-stepping.
   */
  temp: { gva: bigint; mpa: number }[] | null;
  retired: number;
  /** An exception or interrupt was delivered during the last single step. */
  trapped: boolean;
  /** singleThread: only this vCPU runs, the others stay frozen. */
  single: boolean;
}

/** Decides whether a breakpoint stop of a vCPU is the end of a run over a call (a temporary breakpoint). */
type Arrival = (vm: number, cpu: Vcpu, mpa: number) => boolean;

/** `pending` while re-running for time travel: armed events and watches see a stop taken and stay quiet. */
const QUIET: StopInfo = { reason: 'pause', threadId: 1 };

export class VmemRuntime extends EventEmitter {
  private readonly breakpoints: CodeBreakpointTable;
  private dataBreakpoints: DataBreakpoint[] = [];
  private readonly watchDisposers: (() => void)[] = [];
  private filterDisposers: (() => void)[] = [];
  private readonly disposers: (() => void)[] = [];
  private pending: StopInfo | null = null;
  private running = false;
  private pauseAsked = false;
  private disposed = false;
  private ended = false;
  private reportedFailure = false;
  private output = '';
  private log = '';
  private step: StepPlan | null = null;
  private lastStop: StopInfo | null = null;
  /** A single-thread continue: only this vCPU runs. */
  private only: { vm: number; cpu: Vcpu } | null = null;
  /** Objects whose state travels in time with the engine's (the views' event log and statistics). */
  private readonly travellers: object[] = [];
  /** Snapshots for stepBack / reverseContinue (timeTravel.ts). */
  readonly timeline: Timeline<TravelExtra>;

  /** `firstBreakpointId`: ids of every kind of breakpoint count from here (a restarted session's never reuse the last run's). */
  constructor(readonly target: Target, readonly config: LaunchConfig, firstBreakpointId = 1) {
    super();
    this.timeline = new Timeline<TravelExtra>(
      () => [...(target.machine ? [target.machine] : []), ...target.vms.flatMap((d) => [d.vm, d.space]), ...this.travellers],
      (o) => o instanceof EventBus,
    );
    this.breakpoints = new CodeBreakpointTable(target.vms[0].space.cpuMemory, firstBreakpointId);
    const multi = target.vms.length > 1;
    target.vms.forEach((dvm) => {
      this.disposers.push(dvm.vm.bus.on('console', (e) => (this.output += multi ? `[${dvm.name}] ${e.text}` : e.text)));
      for (const k of config.logEvents) this.disposers.push(dvm.vm.bus.on(k, (e: EngineEvent) => (this.log += `[${dvm.name}] ${eventToJson(e)}\n`)));
      // Step over calls and interrupts: note any delivery during a single step.
      const trap = (): void => {
        if (this.step) this.step.trapped = true;
      };
      this.disposers.push(dvm.vm.bus.on('exception', trap), dvm.vm.bus.on('interrupt', trap));
    });
  }

  /**
   * Debugger-side state derived from the engine's events (an event log, statistics counters):
   * snapshotted and restored with the engine, so after stepping back it holds what it held then.
   * Register before the first stop.
   */
  travelWith(o: object): void {
    this.travellers.push(o);
  }

  // ------------------------------------------------------------------ threads and places

  threadId(vm: number, vcpu: number): number {
    return vm * 100 + vcpu + 1;
  }

  threads(): ThreadInfo[] {
    return this.target.vms.flatMap((dvm, i) => dvm.vm.vcpus.map((c) => ({ id: this.threadId(i, c.index), name: `${dvm.name}/vcpu${c.index}` })));
  }

  /** The VM and vCPU of a thread id, or undefined. */
  thread(threadId: number): { dvm: DebugVm; vm: number; cpu: Vcpu } | undefined {
    if (!Number.isInteger(threadId) || threadId < 1) return undefined;
    const vm = Math.floor((threadId - 1) / 100);
    const dvm = this.target.vms[vm];
    const cpu = dvm?.vm.vcpus[(threadId - 1) % 100];
    return dvm && cpu ? { dvm, vm, cpu } : undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The id the next breakpoint of any kind gets. */
  get nextBreakpointId(): number {
    return this.breakpoints.peekId();
  }

  get lastStopInfo(): StopInfo | null {
    return this.lastStop;
  }

  stack(threadId: number): Frame[] {
    const t = this.thread(threadId);
    return t ? walkStack(t.dvm, t.cpu) : [];
  }

  /**
   * Evaluates an expression on a thread (registers, [memory], labels, pte(), gpa(), mpa()). The
   * stop's event fields (`gva`, `reason`, …) are there too, but a register keeps its name here:
   * the vCPU may have stopped after the instruction that caused the event, and `rip` in the
   * console must be the rip VARIABLES shows (in a filter's condition the event's own wins).
   */
  evaluate(text: string, threadId: number): Value {
    const t = this.thread(threadId) ?? this.thread(1)!;
    const all = this.lastStop?.event && this.lastStop.threadId === threadId ? eventFields(this.lastStop.event) : undefined;
    const fields = all && new Map([...all].filter(([name]) => registerValue(t.cpu, name) === undefined));
    return parseExpression(text).evaluate(evalContext(t.dvm, t.cpu, fields));
  }

  // ------------------------------------------------------------------ breakpoints

  setLineBreakpoints(file: string, specs: (CodeBreakpointSpec & { line: number })[]): BreakpointResult[] {
    const path = resolve(file);
    const bps = specs.map((s) => {
      const c = compileSpec(s);
      const b: CodeBreakpoint = { id: this.breakpoints.newId(), kind: 'line', group: `line:${path}`, ...c, hits: 0, sites: [], verified: false, line: s.line };
      if (c.error) return { ...b, message: c.error };
      let line: number | undefined;
      b.sites = sitesOf(this.target.vms, (dvm) => {
        const l = dvm.source.nearestInsnLine(path, s.line);
        if (l === undefined) return [];
        line ??= l;
        return l === line ? dvm.source.loadAddressesOfLine(path, l) : [];
      });
      b.line = line ?? s.line;
      b.verified = b.sites.length > 0;
      if (!b.verified) b.message = line === undefined ? `no instructions from ${path} are loaded in this program` : `line ${line} is not loaded in memory`;
      else if (line !== s.line) b.message = `moved from line ${s.line} to ${line}, the nearest line with an instruction`;
      return b;
    });
    this.breakpoints.replaceGroup(`line:${path}`, bps);
    return bps.map((b) => ({ id: b.id, verified: b.verified, line: b.line, message: b.message }));
  }

  setFunctionBreakpoints(specs: (CodeBreakpointSpec & { name: string })[]): BreakpointResult[] {
    return this.replaceCode('function', specs, (s) => {
      const found = this.target.vms.some((dvm) => dvm.source.loadAddressesOfLabel(s.name) !== undefined);
      const sites = sitesOf(this.target.vms, (dvm) => dvm.source.loadAddressesOfLabel(s.name) ?? []);
      return { sites, message: sites.length > 0 ? undefined : found ? `label '${s.name}' has no instruction` : `no label '${s.name}' in the program` };
    });
  }

  /** Instruction breakpoints on guest-virtual addresses (as the Disassembly view gives them), on thread 1's mapping. */
  setInstructionBreakpoints(specs: (CodeBreakpointSpec & { instructionReference: string; offset?: number })[]): BreakpointResult[] {
    return this.replaceCode('instruction', specs, (s) => {
      let gva: bigint;
      try {
        gva = BigInt(s.instructionReference) + BigInt(s.offset ?? 0);
      } catch {
        return { sites: [], message: `'${s.instructionReference}' is not an address` };
      }
      const sites = this.target.vms.flatMap((dvm, i) => {
        const mpa = dvm.space.gvaToMpa(dvm.vm.vcpus[0], gva);
        return mpa < 0 ? [] : [{ vm: i, mpa }];
      });
      return { sites, message: sites.length > 0 ? undefined : `0x${gva.toString(16)} is not mapped` };
    });
  }

  private replaceCode<S extends CodeBreakpointSpec>(kind: CodeBreakpointKind, specs: S[], resolveSites: (s: S) => { sites: { vm: number; mpa: number }[]; message?: string }): BreakpointResult[] {
    const bps = specs.map((s) => {
      const c = compileSpec(s);
      const b: CodeBreakpoint = { id: this.breakpoints.newId(), kind, group: kind, ...c, hits: 0, sites: [], verified: false };
      if (c.error) return { ...b, message: c.error };
      const r = resolveSites(s);
      return { ...b, sites: r.sites, verified: r.sites.length > 0, message: r.message };
    });
    this.breakpoints.replaceGroup(kind, bps);
    return bps.map((b) => ({ id: b.id, verified: b.verified, message: b.message }));
  }

  /** Arms event filters; subscribes only to the kinds armed, so the others cost nothing. */
  setEventFilters(filters: { filterId: string; condition?: string }[]): BreakpointResult[] {
    this.filterDisposers.forEach((d) => d());
    this.filterDisposers = [];
    return filters.map((f, i) => {
      const filter = filterById(f.filterId);
      if (!filter) return { id: i, verified: false, message: `unknown event filter '${f.filterId}'` };
      let cond: Expression | undefined;
      try {
        cond = f.condition && f.condition.trim() !== '' ? parseExpression(f.condition) : undefined;
      } catch (e) {
        return { id: i, verified: false, message: e instanceof Error ? e.message : String(e) };
      }
      // A condition that reads nothing (`0`, `1 == 2`) has one value for every event: a constant
      // false one can never stop, so the kind is not listened to at all (an armed tlb-miss costs
      // the engine its per-miss hook and an event per miss); a constant true one is no condition.
      const constant = cond ? constantValue(cond) : undefined;
      if (constant !== undefined && !isTrue(constant)) return { id: i, verified: true };
      if (constant !== undefined) cond = undefined;
      this.target.vms.forEach((dvm, vmIndex) => {
        const listener = (e: EngineEvent): void => {
          if (this.pending || !filter.matches(e)) return;
          if (cond) {
            const cpu = dvm.vm.vcpus[e.vcpu] ?? dvm.vm.vcpus[0];
            try {
              if (!isTrue(cond.evaluate(evalContext(dvm, cpu, eventFields(e))))) return;
            } catch (err) {
              this.output += `event filter '${filter.id}': ${err instanceof Error ? err.message : String(err)}\n`;
              return;
            }
          }
          this.pending = { reason: 'exception', threadId: this.threadId(vmIndex, e.vcpu), description: describeEvent(e), text: filter.label, event: e, filterId: filter.id };
          dvm.vm.requestPause(e.vcpu);
        };
        this.filterDisposers.push(dvm.vm.bus.on(filter.kind as EventKind, listener));
      });
      return { id: i, verified: true };
    });
  }

  /**
   * What a data breakpoint on `expression` would watch: `pte(gva)` is the paging entry that maps
   * gva (break when it changes: the guest, a page walk's A/D update or the VMM), anything else
   * an address in guest-virtual memory (8 bytes; `byte [x]`… sizes it).
   */
  dataBreakpointInfo(expression: string, threadId: number): { dataId: string; description: string } | { error: string } {
    const t = this.thread(threadId) ?? this.thread(1)!;
    const text = expression.trim();
    try {
      const pte = /^pte\s*\((.*)\)$/i.exec(text);
      if (pte) {
        const gva = parseExpression(pte[1]).evaluate(evalContext(t.dvm, t.cpu));
        if (typeof gva !== 'bigint') return { error: 'pte() takes an address' };
        const e = t.dvm.space.leafEntryOf(t.cpu, gva);
        if (!e) return { error: `0x${gva.toString(16)} has no paging entry (paging off?)` };
        return { dataId: `${t.vm}:${e.gpa}:${e.size}`, description: `${e.level === 'PT' ? 'PTE' : e.level + 'E'} of gva 0x${gva.toString(16)} (gpa 0x${e.gpa.toString(16)})` };
      }
      const sized = /^(byte|word|dword|qword)\s*\[(.*)\]$/i.exec(text);
      const size = sized ? { byte: 1, word: 2, dword: 4, qword: 8 }[sized[1].toLowerCase() as 'byte'] : 8;
      const addr = parseExpression(sized ? sized[2] : text.replace(/^\[(.*)\]$/, '$1')).evaluate(evalContext(t.dvm, t.cpu));
      if (typeof addr !== 'bigint') return { error: 'expected an address' };
      const gpa = t.dvm.space.gvaToGpa(t.cpu, addr);
      if (gpa < 0) return { error: `gva 0x${addr.toString(16)} is not mapped` };
      return { dataId: `${t.vm}:${gpa}:${size}`, description: `${size} bytes at gva 0x${addr.toString(16)} (gpa 0x${gpa.toString(16)})` };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }

  setDataBreakpoints(specs: { dataId: string; condition?: string; hitCondition?: string }[]): BreakpointResult[] {
    this.watchDisposers.splice(0).forEach((d) => d());
    this.dataBreakpoints = [];
    const results = specs.map((s): BreakpointResult => {
      const id = this.breakpoints.newId();
      const m = /^(\d+):(\d+):(\d+)$/.exec(s.dataId);
      const dvm = m ? this.target.vms[Number(m[1])] : undefined;
      if (!m || !dvm) return { id, verified: false, message: `bad dataId '${s.dataId}'` };
      const gpa = Number(m[2]);
      const size = Number(m[3]);
      const mpa = dvm.space.gpaToMpa(gpa);
      if (mpa < 0) return { id, verified: false, message: `gpa 0x${gpa.toString(16)} has no machine frame yet` };
      const c = compileSpec(s);
      if (c.error) return { id, verified: false, message: c.error };
      this.dataBreakpoints.push({ id, vm: Number(m[1]), mpa, size, description: `gpa 0x${gpa.toString(16)}`, condition: c.condition, hit: c.hit, hits: 0 });
      return { id, verified: true };
    });
    this.installWatches();
    return results;
  }

  /** Puts the data breakpoints' watches on their frames (again, after a time-travel restore). */
  private installWatches(): void {
    this.watchDisposers.splice(0).forEach((d) => d());
    const memory = this.target.vms[0].space.cpuMemory;
    const frames = new Set(this.dataBreakpoints.map((d) => Math.floor(d.mpa / 4096)));
    for (const fn of frames) {
      const onWrite = (f: MemFrame, offset: number, size: number): void => this.onWatchedWrite(f.number * 4096 + offset, size);
      for (const d of this.dataBreakpoints.filter((x) => Math.floor(x.mpa / 4096) === fn)) this.watchDisposers.push(memory.addWatch(d.mpa, d.size, onWrite));
    }
  }

  private onWatchedWrite(mpa: number, size: number): void {
    if (this.pending) return;
    for (const d of this.dataBreakpoints) {
      if (mpa >= d.mpa + d.size || mpa + size <= d.mpa) continue;
      const dvm = this.target.vms[d.vm];
      const cpu = dvm.vm.vcpus.find((c) => c.state === 'running') ?? dvm.vm.vcpus[0];
      if (d.condition) {
        try {
          if (!isTrue(d.condition.evaluate(evalContext(dvm, cpu)))) continue;
        } catch {
          continue;
        }
      }
      d.hits++;
      if (d.hit && !d.hit(d.hits)) continue;
      let v = 0n;
      for (let i = d.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(dvm.space.cpuMemory.read8(d.mpa + i));
      this.pending = { reason: 'data breakpoint', threadId: this.threadId(d.vm, cpu.index), description: `${d.description} changed: now 0x${v.toString(16)}`, hitBreakpointIds: [d.id] };
      for (const c of dvm.vm.vcpus) c.requestPause();
      return;
    }
  }

  // ------------------------------------------------------------------ execution control

  /** Starts: stops on entry, or runs. */
  start(stopOnEntry: boolean): void {
    this.snapshot();
    if (stopOnEntry) this.stopped({ reason: 'entry', threadId: 1 });
    else this.resume(false);
  }

  /** `singleThread`: only that thread's vCPU runs (the others frozen); else the whole machine. */
  continue(threadId?: number, singleThread = false): void {
    this.step = null;
    const t = singleThread && threadId !== undefined ? this.thread(threadId) : undefined;
    this.only = t ? { vm: t.vm, cpu: t.cpu } : null;
    this.resume();
  }

  stepThread(threadId: number, kind: StepKind, instruction: boolean, singleThread = false): void {
    const t = this.thread(threadId) ?? this.thread(1)!;
    const p: StepPlan = {
      kind, instruction, vm: t.vm, cpu: t.cpu, startLine: this.lineKey(t.dvm, t.cpu), startRsp: t.cpu.getReg(4), startCpl: t.cpu.cpl,
      over: null, temp: null, retired: 0, trapped: false, single: singleThread,
    };
    this.step = p;
    this.only = null;
    if (kind === 'out') {
      // Out of this frame at full speed: to the caller's return address at the caller's stack
      // depth and privilege (recursion: the same address reached deeper is not the return).
      const caller = walkStack(t.dvm, t.cpu)[1];
      if (caller?.resume) {
        p.over = { rips: [caller.address], rsp: caller.resume.rsp, cpl: caller.resume.cpl };
        if (!this.plantReturn(p)) p.over = null;
      }
    }
    this.resume();
  }

  pause(): void {
    if (this.running) this.pauseAsked = true;
  }

  terminate(): void {
    this.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.running = false;
    if (this.step) this.liftReturn(this.step);
    this.filterDisposers.forEach((d) => d());
    this.watchDisposers.forEach((d) => d());
    this.disposers.forEach((d) => d());
  }

  // ------------------------------------------------------------------ time travel (timeTravel*.ts)

  /** One instruction or source line back on a thread; stops with reason 'step' (or 'entry' at the start). */
  stepBack(threadId: number, instruction: boolean): void {
    const t = this.thread(threadId) ?? this.thread(1)!;
    this.travel(true, (host, onPause) => {
      const goal = stepBackGoal(host, t.dvm, t.cpu, instruction, onPause);
      return goal === undefined ? undefined : { goal, stop: { reason: 'step', threadId: this.threadId(t.vm, t.cpu.index) } };
    });
  }

  /** Back to the previous breakpoint or armed event (hit counts are not rewound), or to the start. */
  reverseContinue(): void {
    this.travel(false, (host, onPause) => {
      const found = previousStop(host, () => {
        const s = this.afterRun('pause-requested', undefined);
        for (const dvm of this.target.vms) for (const c of dvm.vm.vcpus) if (c.breakpointHit !== null) {
          c.breakpointHit = null;
          c.resumeFromBreakpoint();
        }
        return s;
      }, (s) => s.reason !== 'exception' && s.reason !== 'data breakpoint');
      if (!found) return undefined;
      const { point, hit } = found;
      this.pending = QUIET;
      travelTo(host, point, hit.icount, onPause);
      // A code breakpoint stops as it did forward: fetched, before the instruction. The snapshot
      // taken at that very stop was fetched already (its TLB hit counted): not twice.
      const fetched = this.target.vms.some((d) => d.vm.vcpus.some((c) => c.breakpointHit !== null));
      if (hit.codeBreakpoint && !fetched) this.target.run(1);
      return { goal: hit.icount, stop: hit.stop, arrived: true };
    });
  }

  /** A debugger write (setVariable, writeMemory): the past before it can no longer be re-run. */
  noteDebuggerWrite(what: string): void {
    this.timeline.markWrite(this.target.icount, what, this.travelExtra());
  }

  private snapshot(): void {
    this.timeline.take(this.target.icount, this.travelExtra());
  }

  private travelExtra(): TravelExtra {
    return { ended: this.ended, reportedFailure: this.reportedFailure };
  }

  /**
   * Runs a search and goes to its goal with the engine quiet: armed events and watches see a
   * stop pending and do nothing, console and log output of the re-run is dropped. No goal: back
   * to the start (reason 'entry'). A refused goal (before a debugger write) is an error.
   */
  private travel(quietSearch: boolean, search: (host: TravelHost<TravelExtra>, onPause: () => void) => { goal: number; stop: StopInfo; arrived?: boolean } | undefined): void {
    if (this.disposed || this.running) return;
    const now = this.target.icount;
    const here = this.timeline.before(now);
    const quiet = QUIET;
    const output = this.output.length;
    const log = this.log.length;
    const hits = this.breakpoints.groups().flatMap((g) => this.breakpoints.ofGroup(g)).map((b) => [b, b.hits] as const);
    const dataHits = this.dataBreakpoints.map((d) => [d, d.hits] as const);
    const resumeAll = (): void => {
      this.pending = quiet;
      for (const dvm of this.target.vms) for (const c of dvm.vm.vcpus) if (c.breakpointHit !== null) {
        c.breakpointHit = null;
        c.resumeFromBreakpoint();
      }
    };
    const host: TravelHost<TravelExtra> = {
      target: this.target, timeline: this.timeline, lineKey: (dvm, cpu) => this.lineKey(dvm, cpu),
      afterRestore: (p: TimePoint<TravelExtra>) => this.afterRestore(p),
    };
    let result: { goal: number; stop: StopInfo; arrived?: boolean } | undefined;
    let error: unknown;
    try {
      const first = this.timeline.before(0);
      // reverseContinue's search needs the listeners live: it takes their stops through afterRun.
      this.pending = quietSearch ? quiet : null;
      result = search(host, resumeAll);
      if (result && !result.arrived) {
        this.timeline.check(result.goal);
        this.pending = quiet;
        travelTo(host, this.timeline.before(result.goal)!, result.goal, resumeAll);
      } else if (!result) {
        this.timeline.check(0);
        if (!first) throw new TimeTravelError('no snapshot of the start is kept');
        travelTo(host, first, 0, resumeAll);
        result = { goal: 0, stop: { reason: 'entry', threadId: 1 } };
      }
    } catch (e) {
      error = e;
      if (here) travelTo(host, here, now, resumeAll);
    } finally {
      this.pending = null;
      this.output = this.output.slice(0, output);
      this.log = this.log.slice(0, log);
      for (const [b, n] of hits) b.hits = n;
      for (const [d, n] of dataHits) d.hits = n;
    }
    if (error instanceof TimeTravelError) {
      this.emit('output', error.message + '\n', 'console');
      result = undefined;
    } else if (error) throw error;
    this.timeline.forgetAfter(this.target.icount);
    this.stopped(result?.stop ?? { reason: 'step', threadId: 1 });
  }

  /** The runtime's flags back, and the debugger's hooks on frames the restore dropped put back. */
  private afterRestore(p: TimePoint<TravelExtra>): void {
    this.ended = p.extra.ended;
    this.reportedFailure = p.extra.reportedFailure;
    const memory = this.target.vms[0].space.cpuMemory;
    for (const g of this.breakpoints.groups()) for (const b of this.breakpoints.ofGroup(g)) for (const s of b.sites) memory.addBreakpoint(s.mpa);
    this.installWatches();
    for (const dvm of this.target.vms) {
      // Listeners are the debugger's: let the engine re-read who wants which events.
      dvm.vm.bus.on('console', () => undefined)();
    }
  }

  /** `stepOver`: a breakpoint at the current rip was reported already (or is not to stop): run its instruction. */
  private resume(stepOver = true): void {
    if (this.disposed || this.running) return;
    if (this.ended) {
      this.finish();
      return;
    }
    this.running = true;
    this.pauseAsked = false;
    this.lastStop = null;
    // Step over a breakpoint at the current rip, whatever the last stop was.
    for (const dvm of this.target.vms) for (const c of dvm.vm.vcpus) {
      c.breakpointHit = null;
      if (stepOver) c.resumeFromBreakpoint();
    }
    setImmediate(() => this.turn());
  }

  private turn(): void {
    if (this.disposed || !this.running) return;
    try {
      const t0 = Date.now();
      let stop: StopInfo | 'ended' | null = null;
      while (stop === null && Date.now() - t0 < TURN_MS) {
        if (this.pauseAsked) {
          stop = { reason: 'pause', threadId: this.step ? this.threadId(this.step.vm, this.step.cpu.index) : 1 };
          break;
        }
        stop = this.step ? this.stepSome() : this.runSlice();
      }
      this.flushOutput();
      if (stop === 'ended') this.finish();
      else if (stop) this.stopped(stop);
      else setImmediate(() => this.turn());
    } catch (e) {
      this.flushOutput();
      this.emit('output', `engine error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`, 'stderr');
      this.finish();
    }
  }

  /** One engine slice while continuing: a stop, 'ended', or null to go on. */
  private runSlice(): StopInfo | 'ended' | null {
    const left = this.config.maxSteps - this.target.icount;
    if (left <= 0) return this.boundReached();
    const r = this.runEngine(Math.min(SLICE, left), this.only);
    if (r.outcome === 'budget' && this.timeline.periodicDue(this.target.icount)) this.snapshot();
    const stop = this.afterRun(r.outcome, r.vm);
    if (stop) return stop;
    if (this.only && r.executed === 0 && r.outcome === 'budget') return this.frozenStop(this.only.vm, this.only.cpu, 'pause');
    if (this.config.audit) {
      const v = this.target.audit();
      if (v.length > 0) return { reason: 'exception', threadId: 1, text: 'MMU audit', description: `MMU audit failed after ${this.target.icount} instructions: ${v.join('; ')}` };
    }
    return r.outcome === 'stopped' ? this.endOfRun() : null;
  }

  /**
   * The engine for `budget` instructions: the whole machine (all-stop), or one vCPU alone
   * (singleThread), its VM named in the result either way.
   */
  private runEngine(budget: number, only: { vm: number; cpu: Vcpu } | null): TargetRunResult {
    if (!only) return this.target.run(budget);
    const vm = this.target.vms[only.vm].vm;
    const r = vm.runVcpu(only.cpu.index, budget);
    return { executed: r.executed, outcome: r.outcome, vm };
  }

  /** A single-thread run whose vCPU cannot retire anything (halted, and the others that could wake it are frozen). */
  private frozenStop(vm: number, cpu: Vcpu, reason: 'pause' | 'step'): StopInfo {
    const name = `${this.target.vms[vm].name}/vcpu${cpu.index}`;
    return { reason, threadId: this.threadId(vm, cpu.index), description: `${name} is ${cpu.state} and the other vCPUs are frozen (single-thread execution): continue all threads to wake it` };
  }

  /** A stop caused by a filter, a data breakpoint or a code breakpoint, after an engine call. */
  private afterRun(outcome: string, vm: unknown): StopInfo | null {
    return this.pauseStop(outcome, vm, undefined) as StopInfo | null;
  }

  /**
   * afterRun, and the arrival of a run over a call: a breakpoint stop that `arrival` accepts is
   * 'arrived' (unless a user breakpoint there stops first); other temporary-breakpoint stops
   * (another vCPU, a deeper recursion) resume.
   */
  private pauseStop(outcome: string, vm: unknown, arrival: Arrival | undefined): StopInfo | 'arrived' | null {
    if (outcome !== 'pause-requested') return null;
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      return p;
    }
    for (let i = 0; i < this.target.vms.length; i++) {
      const dvm = this.target.vms[i];
      if (vm !== undefined && dvm.vm !== vm) continue;
      for (const cpu of dvm.vm.vcpus) {
        if (cpu.breakpointHit === null) continue;
        const mpa = cpu.breakpointHit;
        const stop = this.checkBreakpoints(i, cpu, mpa);
        if (stop) return stop;
        cpu.breakpointHit = null;
        cpu.resumeFromBreakpoint();
        if (arrival?.(i, cpu, mpa)) return 'arrived';
      }
    }
    return null;
  }

  /**
   * Plants the temporary breakpoints of a run over a call, an interrupt or out of a frame, on
   * the machine-physical addresses of `over.rips`. False (single-step instead) when one is not
   * mapped now.
   */
  private plantReturn(p: StepPlan): boolean {
    const dvm = this.target.vms[p.vm];
    const sites: { gva: bigint; mpa: number }[] = [];
    for (const gva of p.over!.rips) {
      const mpa = dvm.space.gvaToMpa(p.cpu, gva);
      if (mpa < 0) return false;
      sites.push({ gva, mpa });
    }
    for (const s of sites) dvm.space.cpuMemory.addBreakpoint(s.mpa);
    p.temp = sites;
    return true;
  }

  /** Removes the temporary breakpoints (a user breakpoint at the same address stays). */
  private liftReturn(p: StepPlan): void {
    if (!p.temp) return;
    const memory = this.target.vms[p.vm].space.cpuMemory;
    for (const s of p.temp) if (this.breakpoints.at(s.mpa).length === 0) memory.removeBreakpoint(s.mpa);
    p.temp = null;
  }

  /**
   * One full-speed slice of a run over a call: a stop (a user breakpoint, an event filter, a
   * data breakpoint, the end), 'arrived' at the return at the right depth and privilege, or
   * null to go on.
   */
  private overSlice(p: StepPlan): StopInfo | 'ended' | 'arrived' | null {
    const left = this.config.maxSteps - this.target.icount;
    if (left <= 0) return this.boundReached();
    this.followReturn(p);
    const o = p.over!;
    const temp = p.temp!;
    const r = this.runEngine(Math.min(SLICE, left), p.single ? { vm: p.vm, cpu: p.cpu } : null);
    const arrival: Arrival = (vm, cpu, mpa) =>
      vm === p.vm && cpu === p.cpu && temp.some((s) => s.mpa === mpa) && cpu.cpl === o.cpl && cpu.getReg(4) === o.rsp && o.rips.includes(cpu.ripValue);
    const stop = this.pauseStop(r.outcome, r.vm, arrival);
    if (stop === 'arrived') {
      this.liftReturn(p);
      p.over = null;
      return 'arrived';
    }
    if (stop) return stop;
    if (r.outcome === 'stopped' || this.target.stopped) return this.endOfRun();
    if (p.single && r.executed === 0 && r.outcome === 'budget') return this.frozenStop(p.vm, p.cpu, 'step');
    return null;
  }

  /** The callee remapped a return page (or switched address space and back): move the breakpoint to where the gva maps now. */
  private followReturn(p: StepPlan): void {
    const dvm = this.target.vms[p.vm];
    for (const s of p.temp!) {
      const mpa = dvm.space.gvaToMpa(p.cpu, s.gva);
      if (mpa < 0 || mpa === s.mpa) continue;
      if (this.breakpoints.at(s.mpa).length === 0) dvm.space.cpuMemory.removeBreakpoint(s.mpa);
      dvm.space.cpuMemory.addBreakpoint(mpa);
      s.mpa = mpa;
    }
  }

  private checkBreakpoints(vm: number, cpu: Vcpu, mpa: number): StopInfo | null {
    const dvm = this.target.vms[vm];
    const hit: CodeBreakpoint[] = [];
    for (const b of this.breakpoints.at(mpa)) {
      if (b.condition) {
        try {
          if (!isTrue(b.condition.evaluate(evalContext(dvm, cpu)))) continue;
        } catch (e) {
          this.output += `breakpoint condition '${b.condition.text}': ${e instanceof Error ? e.message : String(e)}\n`;
          continue;
        }
      }
      b.hits++;
      if (b.hit && !b.hit(b.hits)) continue;
      if (b.logMessage !== undefined) {
        this.log += interpolate(b.logMessage, evalContext(dvm, cpu)) + '\n';
        continue;
      }
      hit.push(b);
    }
    if (hit.length === 0) return null;
    const kind = hit[0].kind;
    return { reason: kind === 'line' ? 'breakpoint' : kind === 'function' ? 'function breakpoint' : 'instruction breakpoint', threadId: this.threadId(vm, cpu.index), hitBreakpointIds: hit.map((b) => b.id) };
  }

  /**
   * Single-steps the stepping vCPU's VM (or, singleThread, the vCPU alone) a bounded number of
   * times; a call, an interrupt or a stepOut runs to its return at full speed (overSlice).
   */
  private stepSome(): StopInfo | 'ended' | null {
    const p = this.step!;
    const dvm = this.target.vms[p.vm];
    const here = (): StopInfo => ({ reason: 'step', threadId: this.threadId(p.vm, p.cpu.index) });
    for (let n = 0; n < STEPS_PER_TURN; n++) {
      if (p.temp) {
        const r = this.overSlice(p);
        if (r !== 'arrived') return r;
        if (p.kind === 'out') return here();
        const landed = this.landed(p, dvm);
        if (landed) return landed;
        continue;
      }
      if (this.target.icount >= this.config.maxSteps) return this.boundReached();
      const before = { rip: p.cpu.ripValue, rsp: p.cpu.getReg(4), cpl: p.cpu.cpl, icount: p.cpu.icount };
      const insn = p.over ? null : this.insnAt(dvm, p.cpu);
      p.trapped = false;
      const r = p.single ? dvm.vm.runVcpu(p.cpu.index, 1) : dvm.vm.run(1);
      const stop = this.afterRun(r.outcome, dvm.vm);
      if (stop) return stop;
      if (dvm.vm.stopped) return this.endOfRun();
      if (p.cpu.icount === before.icount && !p.trapped) {
        // Nothing retired (a breakpoint that did not stop, or a halted vCPU): go on.
        if (p.cpu.state !== 'running' && r.executed === 0) return p.single ? this.frozenStop(p.vm, p.cpu, 'step') : here();
        continue;
      }
      if (p.over) {
        const o = p.over;
        if (p.cpu.cpl !== o.cpl || p.cpu.getReg(4) !== o.rsp || !o.rips.includes(p.cpu.ripValue)) continue;
        p.over = null;
      } else {
        p.retired++;
        if (p.kind === 'out') {
          // Out of this frame: a return at this privilege to a shallower stack, or an IRETQ from a
          // handler to less privileged code.
          const ret = insn !== null && (insn.op === Op.RET || insn.op === Op.IRETQ);
          const returned = ret && ((p.cpu.cpl === p.startCpl && p.cpu.getReg(4) > p.startRsp) || (insn.op === Op.IRETQ && p.cpu.cpl > p.startCpl));
          if (returned) return here();
          continue;
        }
        const callLike = insn !== null && (insn.op === Op.CALL || insn.op === Op.INT || insn.op === Op.INT3);
        if (p.kind === 'next' && (p.trapped || callLike)) {
          // Run the call, the system call or the handler to its end: back here at this stack depth
          // (the instruction after it, or the same one restarted after a fault's handler).
          const next = insn ? BigInt.asUintN(64, before.rip + BigInt(insn.length)) : before.rip;
          const o = { rips: [before.rip, next], rsp: before.rsp, cpl: before.cpl };
          if (p.cpu.cpl !== o.cpl || p.cpu.getReg(4) !== o.rsp || !o.rips.includes(p.cpu.ripValue)) {
            p.over = o;
            // At full speed to a temporary breakpoint; single-stepped when a return page is unmapped.
            this.plantReturn(p);
            continue;
          }
        }
      }
      const landed = this.landed(p, dvm);
      if (landed) return landed;
    }
    return null;
  }

  /** After an instruction of a step (or the return of a run over a call): the step's stop, or null to go on. */
  private landed(p: StepPlan, dvm: DebugVm): StopInfo | null {
    const here: StopInfo = { reason: 'step', threadId: this.threadId(p.vm, p.cpu.index) };
    if (p.instruction) return here;
    const line = this.lineKey(dvm, p.cpu);
    if (line === undefined || line === p.startLine) return null;
    // `next` stays in this frame: a deeper stack at the same privilege is a callee we entered by a jump.
    if (p.kind === 'next' && p.cpu.cpl === p.startCpl && p.cpu.getReg(4) < p.startRsp - 0x1000n) return null;
    return here;
  }

  private insnAt(dvm: DebugVm, cpu: Vcpu): ReturnType<typeof decodeInsn> {
    return decodeInsn(dvm.space.readVirtualBytes(cpu, cpu.ripValue, 12) ?? dvm.space.readVirtualBytes(cpu, cpu.ripValue, 2));
  }

  private lineKey(dvm: DebugVm, cpu: Vcpu): string | undefined {
    const e = locate(dvm, cpu, cpu.ripValue);
    return e ? `${e.file}:${e.line}` : undefined;
  }

  private boundReached(): 'ended' {
    this.output += `stopped after ${this.target.icount} instructions: the step bound (maxSteps ${this.config.maxSteps}) was reached\n`;
    return 'ended';
  }

  /** Every VM stopped: a failure stops once (to look at it), a normal end ends the session. */
  private endOfRun(): StopInfo | 'ended' {
    for (let i = 0; i < this.target.vms.length; i++) {
      const dvm = this.target.vms[i];
      dvm.vm.devices.flushLine();
      const bad = dvm.vm.vcpus.find((c) => c.stopKind === 'triple-fault' || c.stopKind === 'error');
      if (bad && !this.reportedFailure) {
        this.reportedFailure = true;
        this.ended = true;
        return { reason: 'exception', threadId: this.threadId(i, bad.index), text: bad.stopKind ?? 'stopped', description: `${dvm.name}/vcpu${bad.index}: ${bad.stopReason}` };
      }
    }
    return 'ended';
  }

  private finish(): void {
    if (this.disposed) return;
    this.running = false;
    if (this.step) this.liftReturn(this.step);
    for (const dvm of this.target.vms) {
      dvm.vm.devices.flushLine();
      const c = dvm.vm.vcpus[0];
      const status = dvm.vm.devices.exitCode;
      this.output += `${dvm.name}: ${status !== undefined ? `guest exited with status ${status}` : c.stopReason || 'ended'} after ${dvm.vm.icount} instructions\n`;
    }
    this.flushOutput();
    const code = this.target.vms[0].vm.devices.exitCode ?? (this.reportedFailure ? 1 : 0);
    this.emit('exited', code);
    this.emit('terminated');
    this.dispose();
  }

  private stopped(stop: StopInfo): void {
    this.running = false;
    if (this.step) this.liftReturn(this.step);
    this.snapshot();
    this.step = null;
    this.only = null;
    this.pauseAsked = false;
    this.lastStop = stop;
    this.flushOutput();
    this.emit('stopped', stop);
  }

  private flushOutput(): void {
    for (const dvm of this.target.vms) if (dvm.vm.devices && this.running === false) dvm.vm.devices.flushLine();
    if (this.output !== '') {
      this.emit('output', this.output, 'stdout');
      this.output = '';
    }
    if (this.log !== '') {
      this.emit('output', this.log, 'console');
      this.log = '';
    }
  }
}

/** Thrown by the probe context: the expression reads a name, memory or a function. */
const READS = new Error('reads the context');
const PROBE: EvalContext = {
  lookup: () => { throw READS; },
  read: () => { throw READS; },
  call: () => { throw READS; },
};

/** The expression's value when it reads nothing (the same for every event), else undefined. */
function constantValue(e: Expression): Value | undefined {
  try {
    return e.evaluate(PROBE);
  } catch {
    // Reads the context, or fails (e.g. 1/0): evaluated per event as before, errors reported there.
    return undefined;
  }
}

function decodeInsn(bytes: Uint8Array | undefined): { op: number; length: number } | null {
  if (!bytes) return null;
  const d = decode(bytes, 0);
  return typeof d === 'string' ? null : { op: d.op, length: d.length };
}
