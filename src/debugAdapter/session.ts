// The DAP session: translates requests into runtime calls and runtime events into DAP events.
// It holds no engine logic (runtime/ does) and never imports vscode. Every handler validates
// its arguments: a malformed or out-of-order request gets an error response, never a crash.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import {
  Breakpoint, BreakpointEvent, ContinuedEvent, ExitedEvent, InitializedEvent, LoggingDebugSession, OutputEvent, Response, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VmemRuntime } from './runtime/runtime';
import type { BreakpointResult, StopInfo } from './runtime/runtime';
import { LaunchConfigError, parseLaunchConfig } from './runtime/launchConfig';
import { buildTarget } from './runtime/target';
import { EVENT_FILTERS, eventFieldsText } from './runtime/eventFilters';
import { InspectRequests, VIEW_REQUESTS } from './inspectRequests';
import type { ClientSupport } from './inspectRequests';
import type { ViewRequestName } from './viewsProtocol';

/** Thrown by handlers: becomes an error response with this message. */
class RequestError extends Error {}

const ERR_LAUNCH = 3001;
const ERR_REQUEST = 3002;

type Args = Record<string, unknown>;

function argsOf(a: unknown): Args {
  return typeof a === 'object' && a !== null && !Array.isArray(a) ? (a as Args) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function arrayOf(v: unknown): Args[] {
  return Array.isArray(v) ? v.map(argsOf) : [];
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

export class VmemDebugSession extends LoggingDebugSession {
  private runtime: VmemRuntime | null = null;
  private launchArgs: Args | null = null;
  private configurationDone: Promise<void>;
  private markConfigured: () => void = () => undefined;
  private workspace = process.cwd();
  // What the client asked for, replayed when a program is (re)launched.
  private readonly lineRequests = new Map<string, Args[]>();
  private functionRequest: Args[] = [];
  private instructionRequest: Args[] = [];
  private filterRequest: { filterId: string; condition?: string }[] = [];
  private dataRequest: Args[] = [];
  /** The breakpoint ids the client holds, per request group, in request order. */
  private readonly clientIds = new Map<string, number[]>();
  /** A replayed breakpoint's id in this run → the id the client knows it by (after a restart). */
  private readonly toClientId = new Map<number, number>();
  // Scopes, evaluate, memory, disassembly and the views' requests of the current runtime.
  private inspect: InspectRequests | null = null;
  private client: ClientSupport = { progress: false, invalidated: false, memory: false };

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configurationDone = new Promise((r) => (this.markConfigured = r));
  }

  /** Runs a handler; any thrown error becomes an error response. */
  private handle<R extends DebugProtocol.Response>(response: R, fn: () => void): void {
    try {
      fn();
      this.sendResponse(response);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const code = e instanceof LaunchConfigError ? ERR_LAUNCH : ERR_REQUEST;
      response.success = false;
      response.message = message;
      response.body = { error: { id: code, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true } };
      this.sendResponse(response);
    }
  }

  private need(): VmemRuntime {
    if (!this.runtime) throw new RequestError('no program is being debugged (launch one first)');
    return this.runtime;
  }

  private needStopped(): VmemRuntime {
    const rt = this.need();
    if (rt.isRunning) throw new RequestError('the program is running: pause it first');
    return rt;
  }

  // ------------------------------------------------------------------ session lifecycle

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    const a = argsOf(args);
    this.client = { progress: a.supportsProgressReporting === true, invalidated: a.supportsInvalidatedEvent === true, memory: a.supportsMemoryEvent === true };
    response.body = {
      supportsSetVariable: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsCancelRequest: true,
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsFunctionBreakpoints: true,
      supportsInstructionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      supportsSteppingGranularity: true,
      supportsSingleThreadExecutionRequests: true,
      supportsStepBack: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsEvaluateForHovers: true,
      exceptionBreakpointFilters: EVENT_FILTERS.map((f) => ({
        filter: f.id, label: f.label, description: f.description, default: false, supportsCondition: true,
        conditionDescription: `An expression over the event's fields, e.g. ${f.id === 'vmexit' ? 'reason == 28' : f.id.startsWith('pf') ? 'gva >= 0x400000' : 'rip != 0'}`,
      })),
    };
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.markConfigured();
    this.sendResponse(response);
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, rawArgs: DebugProtocol.RestartArguments): void {
    this.handle(response, () => {
      const args = argsOf(argsOf(rawArgs).arguments);
      const launch = Object.keys(args).length > 0 ? args : this.launchArgs;
      if (!launch) throw new RequestError('nothing to restart: launch a program first');
      const old = this.runtime;
      this.runtime = null;
      old?.dispose();
      const rt = this.createRuntime(launch);
      this.launchArgs = launch;
      setImmediate(() => {
        // The client saw the old run stopped: a new run that does not stop on entry resumed on its own.
        if (!rt.config.stopOnEntry) this.sendEvent(new ContinuedEvent(1, true));
        rt.start(rt.config.stopOnEntry);
      });
    });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.inspect?.dispose();
    this.runtime?.dispose();
    this.runtime = null;
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.inspect?.dispose();
    this.runtime?.dispose();
    this.runtime = null;
    this.sendResponse(response);
  }

  /** Validates, builds the target and the runtime, replays the client's breakpoints. */
  private createRuntime(args: Args): VmemRuntime {
    const cwd = str(args.cwd) ?? this.workspace;
    const cfg = parseLaunchConfig(args, (p) => (isAbsolute(p) ? p : resolve(cwd, p)), existsSync);
    const rt = new VmemRuntime(buildTarget(cfg), cfg, Math.max(this.runtime?.nextBreakpointId ?? 1, ...[...this.clientIds.values()].flat().map((i) => i + 1)));
    rt.on('stopped', (s: StopInfo) => this.sendStopped(s));
    rt.on('output', (text: string, category: string) => this.sendEvent(new OutputEvent(text, category)));
    rt.on('exited', (code: number) => this.sendEvent(new ExitedEvent(code)));
    rt.on('terminated', () => {
      if (this.runtime === rt) this.sendEvent(new TerminatedEvent());
    });
    this.runtime = rt;
    this.inspect?.dispose();
    this.inspect = new InspectRequests(rt, (e) => this.sendEvent(e), this.client);
    // The client's breakpoints, replayed: ids are new in this run, so each is mapped to the id the
    // client holds and, where it resolved differently (a restart with a changed program), a
    // `breakpoint` event says so.
    this.toClientId.clear();
    for (const [file, bps] of this.lineRequests) this.replayed(`line:${file}`, rt.setLineBreakpoints(file, bps.map(lineSpec)), new Source(basename(file), file));
    this.replayed('function', rt.setFunctionBreakpoints(this.functionRequest.map((b) => ({ ...spec(b), name: str(b.name) ?? '' }))));
    this.replayed('instruction', rt.setInstructionBreakpoints(this.instructionRequest.map((b) => ({ ...spec(b), instructionReference: str(b.instructionReference) ?? '', offset: int(b.offset) }))));
    rt.setEventFilters(this.filterRequest);
    return rt;
  }

  private replayed(group: string, results: BreakpointResult[], source?: Source): void {
    const known = this.clientIds.get(group) ?? [];
    results.forEach((r, i) => {
      const id = known[i];
      if (id === undefined || id < 1) return;
      this.toClientId.set(r.id, id);
      this.sendEvent(new BreakpointEvent('changed', toBreakpoint({ ...r, id }, source)));
    });
  }

  /** Ids of a set*Breakpoints answer, remembered for a restart's replay. */
  private answered(group: string, results: BreakpointResult[]): BreakpointResult[] {
    this.clientIds.set(group, results.map((r) => r.id));
    for (const r of results) this.toClientId.delete(r.id);
    return results;
  }

  private sendStopped(s: StopInfo): void {
    const e = new StoppedEvent(s.reason, s.threadId, s.text) as DebugProtocol.StoppedEvent;
    e.body.allThreadsStopped = true;
    if (s.description) e.body.description = s.description;
    if (s.hitBreakpointIds) e.body.hitBreakpointIds = s.hitBreakpointIds.map((id) => this.toClientId.get(id) ?? id);
    this.sendEvent(e);
  }

  // ------------------------------------------------------------------ breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, rawArgs: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const path = str(argsOf(args.source).path);
      if (!path) throw new RequestError('setBreakpoints: source.path is required');
      const bps = arrayOf(args.breakpoints).filter((b) => int(b.line) !== undefined && (b.line as number) > 0);
      this.lineRequests.set(path, bps);
      const results = this.answered(`line:${path}`, this.runtime ? this.runtime.setLineBreakpoints(path, bps.map(lineSpec)) : bps.map((b, i) => ({ id: -(i + 1), verified: false, line: b.line as number, message: 'not launched yet' })));
      response.body = { breakpoints: results.map((r) => toBreakpoint(r, new Source(basename(path), path))) };
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, rawArgs: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => {
      this.functionRequest = arrayOf(argsOf(rawArgs).breakpoints).filter((b) => typeof b.name === 'string');
      const results = this.answered('function', this.runtime?.setFunctionBreakpoints(this.functionRequest.map((b) => ({ ...spec(b), name: b.name as string }))) ?? this.functionRequest.map((_b, i) => ({ id: -(i + 1), verified: false, message: 'not launched yet' })));
      response.body = { breakpoints: results.map((r) => toBreakpoint(r)) };
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, rawArgs: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => {
      this.instructionRequest = arrayOf(argsOf(rawArgs).breakpoints).filter((b) => typeof b.instructionReference === 'string');
      const results = this.answered('instruction', this.runtime?.setInstructionBreakpoints(this.instructionRequest.map((b) => ({ ...spec(b), instructionReference: b.instructionReference as string, offset: int(b.offset) }))) ?? this.instructionRequest.map((_b, i) => ({ id: -(i + 1), verified: false, message: 'not launched yet' })));
      response.body = { breakpoints: results.map((r) => toBreakpoint(r)) };
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, rawArgs: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const plain = (Array.isArray(args.filters) ? args.filters : []).filter((f): f is string => typeof f === 'string').map((filterId) => ({ filterId }));
      const withOptions = arrayOf(args.filterOptions).filter((o) => typeof o.filterId === 'string').map((o) => ({ filterId: o.filterId as string, condition: str(o.condition) }));
      this.filterRequest = [...plain.filter((p) => !withOptions.some((o) => o.filterId === p.filterId)), ...withOptions];
      const results = this.runtime?.setEventFilters(this.filterRequest) ?? this.filterRequest.map((_f, i): BreakpointResult => ({ id: i, verified: true }));
      response.body = { breakpoints: results.map((r) => ({ verified: r.verified, message: r.message })) };
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, rawArgs: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const name = str(args.name);
      if (!name) throw new RequestError('dataBreakpointInfo: name (an address expression such as 0x400000 or pte(0x400000)) is required');
      const rt = this.need();
      const threadId = int(argsOf(args).frameId) !== undefined ? Math.floor((args.frameId as number) / 1000) : 1;
      const r = rt.dataBreakpointInfo(name, threadId);
      response.body = 'error' in r ? { dataId: null, description: r.error } : { dataId: r.dataId, description: r.description, accessTypes: ['write'], canPersist: false };
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, rawArgs: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      this.dataRequest = arrayOf(argsOf(rawArgs).breakpoints).filter((b) => typeof b.dataId === 'string');
      const specs = this.dataRequest.map((b) => ({ dataId: b.dataId as string, condition: str(b.condition), hitCondition: str(b.hitCondition) }));
      const results = this.runtime?.setDataBreakpoints(specs) ?? specs.map((_s, i) => ({ id: i + 1, verified: false, message: 'not launched yet' }));
      response.body = { breakpoints: results.map((r) => toBreakpoint(r)) };
    });
  }

  // ------------------------------------------------------------------ execution control

  /** singleThread: only that thread's vCPU runs, the others stay frozen; else the whole machine (all-stop). */
  protected override continueRequest(response: DebugProtocol.ContinueResponse, rawArgs: DebugProtocol.ContinueArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const rt = this.needStopped();
      const threadId = int(args.threadId);
      const single = args.singleThread === true;
      if (single && (threadId === undefined || !rt.thread(threadId))) throw new RequestError(`continue: singleThread needs a thread, and there is no thread ${String(args.threadId)}`);
      rt.continue(threadId, single);
      response.body = { allThreadsContinued: !single };
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepRequest(response, args, 'next');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepRequest(response, args, 'in');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepRequest(response, args, 'out');
  }

  private stepRequest(response: DebugProtocol.Response, rawArgs: unknown, kind: 'next' | 'in' | 'out'): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const rt = this.needStopped();
      const threadId = int(args.threadId) ?? 1;
      if (!rt.thread(threadId)) throw new RequestError(`no thread ${threadId}`);
      rt.stepThread(threadId, kind, args.granularity === 'instruction', args.singleThread === true);
    });
  }

  // Time travel (runtime/timeTravel*.ts): answered at once, the stop follows as for a step.
  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, rawArgs: DebugProtocol.StepBackArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const rt = this.needStopped();
      const threadId = int(args.threadId) ?? 1;
      if (!rt.thread(threadId)) throw new RequestError(`no thread ${threadId}`);
      setImmediate(() => rt.stepBack(threadId, args.granularity === 'instruction'));
    });
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.handle(response, () => {
      const rt = this.needStopped();
      setImmediate(() => rt.reverseContinue());
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => this.need().pause());
  }

  // ------------------------------------------------------------------ state

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: (this.runtime?.threads() ?? []).map((t) => new Thread(t.id, t.name)) };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, rawArgs: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const rt = this.needStopped();
      const threadId = int(args.threadId);
      if (threadId === undefined || !rt.thread(threadId)) throw new RequestError(`stackTrace: no thread ${String(args.threadId)}`);
      const all = rt.stack(threadId);
      const start = Math.max(0, int(args.startFrame) ?? 0);
      const levels = int(args.levels) ?? 0;
      const frames = all.slice(start, levels > 0 ? start + levels : undefined).map((f, i) => {
        const e = f.entry;
        const sf = new StackFrame(threadId * 1000 + start + i, f.name, e ? new Source(basename(e.file), e.file) : undefined, e?.line ?? 0, e?.column ?? 0) as DebugProtocol.StackFrame;
        sf.instructionPointerReference = hex(f.address);
        if (!e) sf.presentationHint = 'subtle';
        return sf;
      });
      response.body = { stackFrames: frames, totalFrames: all.length };
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, rawArgs: DebugProtocol.ExceptionInfoArguments): void {
    this.handle(response, () => {
      const rt = this.needStopped();
      const threadId = int(argsOf(rawArgs).threadId);
      const s = rt.lastStopInfo;
      if (!s || s.threadId !== threadId || s.reason !== 'exception') throw new RequestError(`thread ${String(threadId)} did not stop on an event`);
      const fields = s.event ? eventFieldsText(s.event) : {};
      const details: DebugProtocol.ExceptionDetails & { fields?: Record<string, string> } = {
        message: s.description, typeName: s.event?.kind ?? s.text, fullTypeName: s.event ? `vmem.event.${s.event.kind}` : undefined,
        stackTrace: Object.entries(fields).map(([k, x]) => `${k}: ${x}`).join('\n'), fields,
      };
      response.body = { exceptionId: s.filterId ?? s.text ?? 'stop', description: s.description, breakMode: 'always', details };
    });
  }

  // ------------------------------------------------------------------ inspection (inspectRequests.ts)

  private needInspect(stopped: boolean): InspectRequests {
    if (stopped) this.needStopped();
    else this.need();
    return this.inspect!;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, rawArgs: DebugProtocol.ScopesArguments): void {
    this.handle(response, () => {
      response.body = { scopes: this.needInspect(true).scopes(int(argsOf(rawArgs).frameId)) };
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, rawArgs: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      response.body = { variables: this.needInspect(true).variables(int(args.variablesReference), int(args.start), int(args.count)) };
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, rawArgs: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const name = str(args.name);
      const value = str(args.value);
      if (name === undefined || value === undefined) throw new RequestError('setVariable: name and value are required');
      response.body = this.needInspect(true).setVariable(int(args.variablesReference), name, value);
      this.runtime?.noteDebuggerWrite(`register ${name}`);
    });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, rawArgs: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const expression = str(args.expression);
      if (expression === undefined) throw new RequestError('evaluate: expression is required');
      response.body = this.needInspect(true).evaluate(expression, str(args.context), int(args.frameId));
    });
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, rawArgs: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const count = int(args.count);
      if (count === undefined || count < 0) throw new RequestError('readMemory: count (a byte count) is required');
      response.body = this.needInspect(false).readMemory(str(args.memoryReference), int(args.offset) ?? 0, count);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, rawArgs: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const data = str(args.data);
      if (data === undefined) throw new RequestError('writeMemory: data (base64) is required');
      response.body = this.needInspect(true).writeMemory(str(args.memoryReference), int(args.offset) ?? 0, data);
      this.runtime?.noteDebuggerWrite('memory');
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, rawArgs: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const args = argsOf(rawArgs);
      const count = int(args.instructionCount);
      if (count === undefined || count < 0) throw new RequestError('disassemble: instructionCount is required');
      response.body = { instructions: this.needInspect(false).disassemble(str(args.memoryReference), int(args.offset) ?? 0, int(args.instructionOffset) ?? 0, count) };
    });
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, rawArgs: DebugProtocol.CancelArguments): void {
    this.inspect?.cancel(str(argsOf(rawArgs).progressId));
    this.sendResponse(response);
  }

  /** The views' requests (docs/views-protocol.md); they read the machine, running or not. */
  protected override customRequest(command: string, response: DebugProtocol.Response, rawArgs: unknown): void {
    this.handle(response, () => {
      if (!isViewRequest(command)) throw new RequestError(`unrecognized request '${command}'`);
      response.body = this.needInspect(false).view(command, argsOf(rawArgs));
    });
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    // Launch answers only after configurationDone (the client's breakpoints are set by then).
    if (request.command === 'launch') {
      void this.launch(request);
      return;
    }
    super.dispatchRequest(request);
  }

  private async launch(request: DebugProtocol.Request): Promise<void> {
    const response = new Response(request) as DebugProtocol.LaunchResponse;
    if (this.runtime) {
      this.handle(response, () => {
        throw new RequestError('a program is already being debugged (use restart)');
      });
      return;
    }
    let rt: VmemRuntime;
    try {
      const args = argsOf(request.arguments);
      rt = this.createRuntime(args);
      this.launchArgs = args;
    } catch (e) {
      this.handle(response, () => {
        throw e;
      });
      return;
    }
    this.sendEvent(new InitializedEvent());
    await Promise.race([this.configurationDone, new Promise((r) => setTimeout(r, 2000))]);
    this.sendResponse(response);
    if ((this.runtime as VmemRuntime | null) === rt) rt.start(rt.config.stopOnEntry);
  }
}

function isViewRequest(command: string): command is ViewRequestName {
  return (VIEW_REQUESTS as readonly string[]).includes(command);
}

function spec(b: Args): { condition?: string; hitCondition?: string; logMessage?: string } {
  return { condition: str(b.condition), hitCondition: str(b.hitCondition), logMessage: str(b.logMessage) };
}

function lineSpec(b: Args): { line: number; condition?: string; hitCondition?: string; logMessage?: string } {
  return { ...spec(b), line: int(b.line) ?? 1 };
}

function toBreakpoint(r: BreakpointResult, source?: Source): DebugProtocol.Breakpoint {
  const bp = new Breakpoint(r.verified, r.line, undefined, source) as DebugProtocol.Breakpoint;
  bp.id = r.id;
  if (r.message) bp.message = r.message;
  return bp;
}
