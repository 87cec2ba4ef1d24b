// The inspection requests of a debug session: scopes and variables trees, setVariable,
// evaluate (console commands, watch, hover), read/writeMemory in the three address spaces,
// disassemble, the views' custom requests, and the throttled events sent while running. It
// holds the inspection target of one runtime and turns inspect/'s plain data into DAP bodies;
// session.ts only routes requests here. Every variablesReference dies at the next resume.
import { Event, Handles, InvalidatedEvent, MemoryEvent, ProgressEndEvent, ProgressStartEvent, ProgressUpdateEvent, Source } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import { Statistics } from '../engine/statistics';
import type { VmemRuntime, StopInfo } from './runtime/runtime';
import { eventFieldsText } from './runtime/eventFilters';
import { formatValue } from './runtime/expression';
import {
  contextPayload, createInspectTarget, disassemble, EventLog, eventsPayload, frameMapPayload, gvaRef, isCommand, parseMemoryRef, readMemoryRef, runConsole,
  scopesFor, setRegister, statisticsPayload, tableEntries, tableRoots, tlbPayload, toJson, walkPayload, writeMemoryRef,
} from './inspect';
import type { InspectTarget, InspectVariable, MemoryRef, TableKind } from './inspect';
import { overcommitPayload } from './inspect/overcommit';
import type { ContextWire, FrameMapWire, ShowTranslationWire, StopContextWire, TablePayloadWire, TableResultWire, ViewRequestName, ViewRequests } from './viewsProtocol';
import type { WalkAccess } from '../engine/mmu/walkRecord';
import type { PagingMode } from '../engine/mmu/pagingMode';

type Args = Record<string, unknown>;

/** Optional events the client handles (its initialize arguments). */
export interface ClientSupport {
  progress: boolean;
  invalidated: boolean;
  memory: boolean;
}

/** The custom requests of docs/views-protocol.md (the protocol file's ViewRequests, every one). */
export const VIEW_REQUESTS = ['vmem/tableRoots', 'vmem/tableEntries', 'vmem/tables', 'vmem/walk', 'vmem/tlb', 'vmem/events', 'vmem/statistics', 'vmem/frameMap', 'vmem/context', 'vmem/overcommit'] as const satisfies readonly ViewRequestName[];
// Compile-time: a request added to ViewRequests but not listed above is an error here.
type Unlisted = Exclude<ViewRequestName, (typeof VIEW_REQUESTS)[number]>;
const allListed: Unlisted extends never ? true : Unlisted = true;
void allListed;

/** At most this often while running: a statistics event, a progress update. */
const TICK_MS = 500;
/** A continue shows progress once it has run this long (short runs would only flicker). */
const PROGRESS_AFTER_MS = 1000;

interface Container {
  threadId: number;
  /** Registers: the names can be set. rflags: its flag children can be set. */
  settable: 'registers' | 'rflags' | null;
  variables: InspectVariable[];
}

/** A variable whose value is a guest-virtual address (package.json's debug/variables/context `when`). */
export const GVA_MENU_CONTEXT = 'gva';
/** VS Code's extension of DAP's Variable: the value of the variable's menu context key. */
type VariableWithMenuContext = DebugProtocol.Variable & { __vscodeVariableMenuContext?: string };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** The views' VM ids are 1-based (inspect/target.ts); absent means the first. */
const vmOf = (args: Args): number => num(args.vm) ?? 1;
const vcpuOf = (args: Args): number => num(args.vcpu) ?? 0;
const hex = (v: bigint | number): string => '0x' + v.toString(16);

export class InspectRequests {
  readonly target: InspectTarget;
  private readonly log = new EventLog(1000);
  private readonly stats: Statistics[];
  private readonly handles = new Handles<Container>(1);
  private readonly timer: NodeJS.Timeout;
  private runningSince = 0;
  private progressId: string | null = null;
  private progressCount = 0;
  private lastThread = 1;
  /** Debugger writes so far (writeMemory can back a guest page: the frame map changes). */
  private writes = 0;
  private frameMapMemo: { key: string; body: FrameMapWire } | null = null;

  /**
   * `client`: what the client said it handles (initialize): progress events, and the invalidated
   * and memory events sent after a debugger write (DAP: only to clients that support them).
   */
  constructor(private readonly rt: VmemRuntime, private readonly send: (e: DebugProtocol.Event) => void, private readonly client: ClientSupport) {
    const dvms = rt.target.vms;
    this.target = createInspectTarget(rt.target.machine, dvms.map((d) => ({ vm: d.vm, name: d.name, program: d.source.program })));
    this.stats = this.target.vms.map((v) => new Statistics(v.vm, v.monitor, v.instance?.stats ? () => v.instance!.stats!() : null));
    this.target.vms.forEach((v, i) => {
      v.stats = this.stats[i];
      this.log.attach(v.vm.bus, v.id);
    });
    // Both are built from events: stepping back must take them back to what they were then.
    rt.travelWith(this.log);
    this.stats.forEach((st) => rt.travelWith(st));
    rt.on('stopped', (s: StopInfo) => this.onStopped(s));
    rt.on('terminated', () => this.endProgress());
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.endProgress();
    this.log.dispose();
    this.stats.forEach((s) => s.dispose());
  }

  private onStopped(s: StopInfo): void {
    this.handles.reset();
    this.lastThread = s.threadId;
    this.endProgress();
    this.runningSince = 0;
    this.send(new Event('vmem/statistics', statisticsPayload(this.target)));
    // What the stop is about, so that a client needs no threads + vmem/context round trip.
    try {
      const { vm, vcpu } = this.place(s.threadId);
      const body: StopContextWire = { threadId: s.threadId, vm, vcpu, context: this.context(vm, vcpu) };
      this.send(new Event('vmem/stopped', body));
    } catch {
      // No such thread (cannot happen for a stop the runtime reports): the client asks instead.
    }
  }

  /** While running: a statistics event per tick, and progress for a long continue. */
  private tick(): void {
    if (!this.rt.isRunning) return;
    const now = Date.now();
    if (this.runningSince === 0) this.runningSince = now;
    this.send(new Event('vmem/statistics', statisticsPayload(this.target)));
    if (!this.client.progress) return;
    const icount = this.rt.target.icount;
    if (this.progressId === null && now - this.runningSince >= PROGRESS_AFTER_MS) {
      this.progressId = `vmem-run-${++this.progressCount}`;
      const e = new ProgressStartEvent(this.progressId, 'Running the guest', `${icount} instructions`) as DebugProtocol.ProgressStartEvent;
      e.body.cancellable = true;
      this.send(e);
    } else if (this.progressId !== null) {
      this.send(new ProgressUpdateEvent(this.progressId, `${icount} instructions`));
    }
  }

  private endProgress(): void {
    if (this.progressId === null) return;
    this.send(new ProgressEndEvent(this.progressId, `${this.rt.target.icount} instructions`));
    this.progressId = null;
  }

  /** Cancelling the run's progress pauses it. */
  cancel(progressId: string | undefined): void {
    if (progressId !== undefined && progressId === this.progressId) this.rt.pause();
  }

  // ------------------------------------------------------------------ threads

  /** Inspect's VM id (1-based) and vCPU of a DAP thread. */
  private place(threadId: number): { vm: number; vcpu: number } {
    const t = this.rt.thread(threadId);
    if (!t) throw new Error(`no thread ${threadId}`);
    return { vm: t.vm + 1, vcpu: t.cpu.index };
  }

  private threadOfFrame(frameId: number | undefined): number {
    if (frameId === undefined) return this.rt.thread(this.lastThread) ? this.lastThread : 1;
    const threadId = Math.floor(frameId / 1000);
    if (!this.rt.thread(threadId)) throw new Error(`no frame ${frameId}`);
    return threadId;
  }

  // ------------------------------------------------------------------ scopes and variables

  scopes(frameId: number | undefined): DebugProtocol.Scope[] {
    const threadId = this.threadOfFrame(frameId);
    if (frameId === undefined) throw new Error('scopes: frameId is required');
    const { vm, vcpu } = this.place(threadId);
    const v = this.target.vms[vm - 1];
    const out: DebugProtocol.Scope[] = scopesFor(this.target, v, vcpu).map((s) => ({
      name: s.name, expensive: s.expensive, presentationHint: s.name === 'Registers' ? 'registers' : undefined,
      variablesReference: this.handles.create({ threadId, settable: s.name === 'Registers' ? 'registers' : null, variables: s.variables }),
      namedVariables: s.variables.length,
    }));
    const stop = this.rt.lastStopInfo;
    if (stop?.event && stop.threadId === threadId) {
      const fields = Object.entries(eventFieldsText(stop.event)).map(([name, value]): InspectVariable => ({ name, value }));
      out.push({ name: 'Event', expensive: false, variablesReference: this.handles.create({ threadId, settable: null, variables: fields }) });
    }
    return out;
  }

  private container(ref: number | undefined): Container {
    const c = ref === undefined || ref <= 0 ? undefined : this.handles.get(ref);
    if (!c) throw new Error(`variables: unknown reference ${String(ref)} (references end when the program resumes)`);
    return c;
  }

  variables(ref: number | undefined, start?: number, count?: number): DebugProtocol.Variable[] {
    const c = this.container(ref);
    const from = Math.max(0, start ?? 0);
    const slice = c.variables.slice(from, count !== undefined && count > 0 ? from + count : undefined);
    return slice.map((x) => {
      const settable = c.settable === 'registers' && x.name === 'rflags' ? 'rflags' : null;
      const out: DebugProtocol.Variable = {
        name: x.name, value: x.value, evaluateName: x.evaluateName, memoryReference: x.memoryReference,
        variablesReference: x.children?.length ? this.handles.create({ threadId: c.threadId, settable, variables: x.children }) : 0,
      };
      if (x.children?.length) out.namedVariables = x.children.length;
      // VS Code's context key debugProtocolVariableMenuContext: "VMem: Show Address Translation" on gva values.
      if (x.memoryReference?.startsWith('gva:')) (out as VariableWithMenuContext).__vscodeVariableMenuContext = GVA_MENU_CONTEXT;
      if (!c.settable && !settable) out.presentationHint = { attributes: ['readOnly'] };
      return out;
    });
  }

  /** Registers (and rflags' flags) take any expression; control registers are read-only. */
  setVariable(ref: number | undefined, name: string, valueText: string): DebugProtocol.SetVariableResponse['body'] {
    const c = this.container(ref);
    if (!c.settable) throw new Error(`${name} is read-only: only registers and RFLAGS flags can be set`);
    if (c.settable === 'registers' && name === 'cpl') throw new Error('cpl is read-only in the debugger');
    const value = this.rt.evaluate(valueText, c.threadId);
    if (typeof value !== 'bigint') throw new Error(`'${valueText}' is not a number`);
    const t = this.rt.thread(c.threadId)!;
    const got = setRegister(t.cpu, name, value);
    // rip or rsp move the call stack; any register changes what the other scopes derive from it.
    if (this.client.invalidated) this.send(new InvalidatedEvent(['stacks', 'variables'], c.threadId));
    return { value: c.settable === 'rflags' ? String(got) : hex(got) };
  }

  // ------------------------------------------------------------------ evaluate

  /**
   * `repl`: a console command (walk, pte, ept, tlb, exits, info vm, help) or an expression;
   * `watch`, `hover` and others: an expression in the language of breakpoint conditions.
   */
  evaluate(expression: string, context: string | undefined, frameId: number | undefined): DebugProtocol.EvaluateResponse['body'] {
    const threadId = this.threadOfFrame(frameId);
    if (context === 'repl' && isCommand(expression)) {
      const place = this.place(threadId);
      const r = runConsole(this.target, place, expression);
      if (r.translation) {
        const body: ShowTranslationWire = { ...place, gva: hex(r.translation.gva), access: r.translation.access, user: r.translation.user };
        this.send(new Event('vmem/showTranslation', body));
      }
      return { result: r.text, variablesReference: 0 };
    }
    const value = this.rt.evaluate(expression.trim(), threadId);
    const body: DebugProtocol.EvaluateResponse['body'] = { result: formatValue(value), variablesReference: 0 };
    if (typeof value === 'bigint') {
      const { vm, vcpu } = this.place(threadId);
      body.memoryReference = gvaRef(vm, vcpu, BigInt.asUintN(64, value));
      if (context === 'hover' || context === 'repl') body.result += `  (${BigInt.asIntN(64, value)})`;
    }
    return body;
  }

  // ------------------------------------------------------------------ memory and disassembly

  /** `gva:…`, `gpa:…`, `mpa:…`, or a bare address: a gva of the thread that stopped last. */
  private ref(text: string | undefined): MemoryRef {
    if (text === undefined || text.trim() === '') throw new Error('memoryReference is required');
    if (/^(gva|gpa|mpa):/i.test(text.trim())) return parseMemoryRef(text.trim());
    let address: bigint;
    try {
      address = BigInt(text.trim());
    } catch {
      throw new Error(`'${text}' is not a memory reference (gva:<vm>/<vcpu>:<hex>, gpa:<vm>:<hex>, mpa:<hex> or an address)`);
    }
    const { vm, vcpu } = this.place(this.rt.thread(this.lastThread) ? this.lastThread : 1);
    return { space: 'gva', vm, vcpu, address: BigInt.asUintN(64, address) };
  }

  /**
   * The readable bytes from the start up to the first unreadable one, then `unreadableBytes`:
   * that unreadable run's length (DAP: how many to skip). A range that starts unreadable answers
   * no data and the length of the leading run, so a client steps over it.
   */
  readMemory(memoryReference: string | undefined, offset: number, count: number): DebugProtocol.ReadMemoryResponse['body'] {
    const r = readMemoryRef(this.target, this.ref(memoryReference), offset, count);
    const first = r.unreadable[0];
    const readable = first ? first.offset : r.bytes.length;
    const body: DebugProtocol.ReadMemoryResponse['body'] = { address: hex(r.address), data: Buffer.from(r.bytes.subarray(0, readable)).toString('base64') };
    if (first) body.unreadableBytes = first.length;
    return body;
  }

  writeMemory(memoryReference: string | undefined, offset: number, data: string): DebugProtocol.WriteMemoryResponse['body'] {
    const bytes = Buffer.from(data, 'base64');
    const n = writeMemoryRef(this.target, this.ref(memoryReference), offset, bytes);
    this.writes++;
    // Memory views re-read the range; variables (memory operands, page-table scopes) and the
    // stacks (return addresses, code) may read what changed.
    if (this.client.memory && memoryReference !== undefined) this.send(new MemoryEvent(memoryReference, offset, n));
    if (this.client.invalidated) this.send(new InvalidatedEvent(['stacks', 'variables']));
    return { offset, bytesWritten: n };
  }

  disassemble(memoryReference: string | undefined, offset: number, instructionOffset: number, count: number): DebugProtocol.DisassembledInstruction[] {
    const r = this.ref(memoryReference);
    if (r.space !== 'gva') throw new Error('disassemble: the reference must be a guest-virtual address');
    if (count > 4096) throw new Error('disassemble: at most 4096 instructions per request');
    const v = this.target.vms[r.vm - 1];
    if (!v) throw new Error(`no VM ${r.vm}`);
    return disassemble(this.target, v, r.vcpu, BigInt.asUintN(64, r.address + BigInt(offset)), instructionOffset, count).map((ins) => {
      const d: DebugProtocol.DisassembledInstruction = { address: hex(ins.address), instruction: ins.text };
      if (ins.bytes) d.instructionBytes = ins.bytes;
      if (ins.symbol) d.symbol = ins.symbol;
      if (!ins.valid || ins.unreadable) d.presentationHint = 'invalid';
      if (ins.source) {
        d.location = new Source(basename(ins.source.file), ins.source.file);
        d.line = ins.source.line;
        d.column = ins.source.column;
      }
      return d;
    });
  }

  // ------------------------------------------------------------------ views

  /**
   * The payload of each custom request, typed against ViewRequests: a payload that drifts from
   * the protocol file does not compile. Each throws on bad arguments.
   */
  private readonly views: { [K in ViewRequestName]: (args: Args) => ViewRequests[K]['body'] } = {
    'vmem/tableRoots': () => toJson(tableRoots(this.target)),
    'vmem/tableEntries': (args) => this.tableEntries(args),
    'vmem/tables': (args) => {
      if (!Array.isArray(args.tables)) throw new Error('tables: tables (a list of vmem/tableEntries arguments) is required');
      // Each table on its own: one that cannot be read (freed since, bad arguments) fails alone.
      return {
        tables: (args.tables as unknown[]).map((t): TableResultWire => {
          try {
            return { ok: true, table: this.tableEntries(t !== null && typeof t === 'object' ? (t as Args) : {}) };
          } catch (e) {
            return { ok: false, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      };
    },
    'vmem/walk': (args) => {
      const gva = args.gva;
      if (typeof gva !== 'string' && typeof gva !== 'number') throw new Error('walk: gva (a number or a 0x string) is required');
      const access = args.access;
      if (access !== undefined && access !== 'read' && access !== 'write' && access !== 'fetch') throw new Error("walk: access must be 'read', 'write' or 'fetch'");
      return walkPayload(this.target, { vm: vmOf(args), vcpu: vcpuOf(args), gva, access: access as WalkAccess | undefined, user: args.user === true });
    },
    'vmem/tlb': (args) => tlbPayload(this.target, vmOf(args), vcpuOf(args)),
    'vmem/events': (args) => eventsPayload(this.log, num(args.limit) ?? 100, num(args.after) ?? -1),
    'vmem/statistics': () => statisticsPayload(this.target),
    'vmem/frameMap': (args) => {
      // A census of every machine frame (32768 for 128 MiB) costs milliseconds; the map changes
      // only when the machine runs or the debugger writes, and every view asks at each stop.
      const w = { fromMpn: num(args.fromMpn), toMpn: num(args.toMpn), fromPpn: num(args.fromPpn), toPpn: num(args.toPpn) };
      const key = `${this.rt.target.icount}:${this.writes}:${w.fromMpn}:${w.toMpn}:${w.fromPpn}:${w.toPpn}`;
      if (this.frameMapMemo?.key !== key) this.frameMapMemo = { key, body: frameMapPayload(this.target, w) };
      return this.frameMapMemo.body;
    },
    'vmem/context': (args) => this.context(vmOf(args), vcpuOf(args)),
    'vmem/overcommit': () => overcommitPayload(this.target),
  };

  /** One table's entries (`vmem/tableEntries`, and each item of `vmem/tables`); throws on bad arguments. */
  private tableEntries(args: Args): TablePayloadWire {
    const kind = args.kind;
    if (kind !== 'guest' && kind !== 'shadow' && kind !== 'ept') throw new Error("tableEntries: kind must be 'guest', 'shadow' or 'ept'");
    const address = num(args.address);
    const level = num(args.level);
    if (address === undefined || level === undefined) throw new Error('tableEntries: address and level are required');
    return toJson(tableEntries(this.target, {
      vm: vmOf(args), kind: kind as TableKind, address, level, vcpu: num(args.vcpu), base: num(args.base), paging: typeof args.paging === 'string' ? (args.paging as PagingMode) : undefined, includeNotPresent: args.includeNotPresent === true,
    }));
  }

  /** `vmem/context` of one vCPU: the event it stopped on counts only if the last stop was its own. */
  private context(vm: number, vcpu: number): ContextWire {
    const stop = this.rt.lastStopInfo;
    const event = stop?.event && stop.threadId === this.rt.threadId(vm - 1, vcpu) ? stop.event : undefined;
    return contextPayload(this.target, vm, vcpu, this.rt.target.icount, event);
  }

  /** A custom request's payload; throws on a bad request. */
  view<K extends ViewRequestName>(command: K, args: Args): ViewRequests[K]['body'] {
    const build = this.views[command] as ((args: Args) => ViewRequests[K]['body']) | undefined;
    if (!build) throw new Error(`unknown request '${String(command)}'`);
    return build(args);
  }
}
