// The one place that talks to vmem debug sessions. A debug adapter tracker sees the adapter's
// messages (stopped, continued, terminated, the vmem/statistics, vmem/stopped and
// vmem/showTranslation events, and the client's resuming requests); the active stack item says
// which thread and frame the user picked. At each stop the state — the selected thread's VM and
// vCPU, the focus address — is gathered once and announced: from the adapter's `vmem/stopped`
// event, which follows `stopped` and says all of it (no round trip), else by asking `threads`
// and `vmem/context`. Every answer is checked against the stop it was asked in (StopLedger), so a
// view never draws the machine of an earlier stop.
import * as vscode from 'vscode';
import type { ContextWire, ShowTranslationWire, StatisticsWire, StopContextWire, ViewRequestName, ViewRequests } from '../../debugAdapter/viewsProtocol';
import type { WalkAccess } from '../../engine/mmu/walkRecord';
import { focusOfContext, focusOfExceptionInfo } from './focus';
import { showTranslationOf } from './showTranslation';
import { VmemRequestError, messageOf } from './requestError';
import { MACHINE_WRITING_REQUESTS, RESUMING_REQUESTS, StopLedger } from './stopLedger';
import { stopContextOf } from './stopContext';
import { placeFromThreadId, placesOfThreads, threadsOfResponse } from './threadPlaces';
import type { ThreadPlace } from './threadPlaces';
import { throttle } from './throttle';
import type { Throttled } from './throttle';

export const VMEM_DEBUG_TYPE = 'vmem';

export interface StopState {
  session: vscode.DebugSession;
  /** The selected thread (follows the user's choice in CALL STACK). */
  threadId: number;
  vm: number;
  vcpu: number;
  frameId: number | undefined;
  /** Increments at each stop of this session. */
  stopCount: number;
  /** DAP stopped reason. */
  reason: string;
  /** e.g. "Hidden page fault at gva 0x00401000 (...)" */
  description?: string;
  /** 0x gva of the current fault / last access (vmem/context), if any. */
  focusAddress?: string;
  /** How the vCPU accessed focusAddress (a fetch fault is walked as a fetch), when known. */
  focusAccess?: WalkAccess;
}

/** A Debug Console `translate <gva>` (the adapter's `vmem/showTranslation` event) in a vmem session. */
export interface TranslationRequest extends ShowTranslationWire {
  session: vscode.DebugSession;
}

interface StoppedBody {
  reason: string;
  threadId?: number;
  description?: string;
  text?: string;
}

interface SessionRecord {
  session: vscode.DebugSession;
  ledger: StopLedger;
  places: Map<number, ThreadPlace>;
  /** The thread the last stop happened on (exceptionInfo answers only for it). */
  stop?: StoppedBody & { threadId: number };
  /** The state once the stop has settled. */
  state?: StopState;
  /** A thread/frame picked while the stop was still being gathered. */
  pendingSelection?: { threadId: number; frameId: number | undefined };
  /** Does the adapter answer vmem/context? (undefined: not asked yet) */
  hasContext?: boolean;
  /** Does the adapter follow each `stopped` with a `vmem/stopped` event? (undefined: not known yet) */
  sendsStopContext?: boolean;
  /** A stop waiting for its `vmem/stopped` event. */
  awaitingContext?: { threadId: number; done: (c: StopContextWire | undefined) => void };
  /** The threads' names have been read in this session (places of threads other than the stopped one). */
  threadsRead?: boolean;
  /** Answers shared by every view within one epoch (see shared()). */
  shared: Map<string, Promise<unknown>>;
  sharedEpoch: number;
  statistics?: StatisticsWire;
}

interface Focus {
  address: string;
  access?: WalkAccess;
}

/** The focus address and access of a `vmem/context` answer (read defensively: it crosses a process boundary). */
function focusOfWire(body: Partial<ContextWire> | undefined): Focus | undefined {
  const address = focusOfContext(body);
  const access = body?.access === 'read' || body?.access === 'write' || body?.access === 'fetch' ? body.access : undefined;
  return address === undefined ? undefined : { address, access };
}

/** Read through a call: the field changes across awaits, which control-flow narrowing cannot see. */
const pendingOf = (rec: SessionRecord): SessionRecord['pendingSelection'] => rec.pendingSelection;

/** Statistics reach the views at most this often while running. */
const STATISTICS_INTERVAL_MS = 500;
/**
 * How long a stop waits for its `vmem/stopped` event before asking instead. The adapter sends it
 * together with `stopped` (the same synchronous call), so it comes within the millisecond; the
 * wait matters only for an adapter that never sends it (then only at its first stop).
 */
const STOP_CONTEXT_WAIT_MS = 100;

export class VmemSessions implements vscode.Disposable {
  private readonly stopEmitter = new vscode.EventEmitter<StopState>();
  private readonly selectionEmitter = new vscode.EventEmitter<StopState>();
  private readonly resumeEmitter = new vscode.EventEmitter<void>();
  private readonly endEmitter = new vscode.EventEmitter<void>();
  private readonly statisticsEmitter = new vscode.EventEmitter<StatisticsWire>();
  private readonly translationEmitter = new vscode.EventEmitter<TranslationRequest>();

  readonly onDidStop = this.stopEmitter.event;
  readonly onDidChangeSelection = this.selectionEmitter.event;
  readonly onDidResume = this.resumeEmitter.event;
  readonly onDidEnd = this.endEmitter.event;
  readonly onDidReceiveStatistics = this.statisticsEmitter.event;
  /** The user asked, in a vmem session's Debug Console, to see a gva's translation. */
  readonly onDidRequestTranslation = this.translationEmitter.event;

  private readonly records = new Map<string, SessionRecord>();
  private currentId: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly statisticsOut: Throttled<StatisticsWire>;

  constructor() {
    this.statisticsOut = throttle((s) => this.statisticsEmitter.fire(s), STATISTICS_INTERVAL_MS);
    this.disposables.push(
      this.stopEmitter, this.selectionEmitter, this.resumeEmitter, this.endEmitter, this.statisticsEmitter, this.translationEmitter,
      vscode.debug.registerDebugAdapterTrackerFactory(VMEM_DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => {
          this.recordOf(session);
          return {
            onDidSendMessage: (m: unknown) => this.onAdapterMessage(session, m),
            onWillReceiveMessage: (m: unknown) => this.onClientMessage(session, m),
            onExit: () => this.onEnded(session),
          };
        },
      }),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type === VMEM_DEBUG_TYPE) this.recordOf(s);
      }),
      vscode.debug.onDidTerminateDebugSession((s) => this.onEnded(s)),
      vscode.debug.onDidChangeActiveDebugSession((s) => this.onActiveSession(s)),
      vscode.debug.onDidChangeActiveStackItem((item) => this.onStackItem(item)),
    );
  }

  dispose(): void {
    this.statisticsOut.cancel();
    this.disposables.forEach((d) => d.dispose());
    this.records.clear();
  }

  /** The state of the active vmem session; undefined unless it is stopped and its state known. */
  get state(): StopState | undefined {
    return this.current()?.state;
  }

  /** The active vmem session's guest runs (false while stopped, while a stop is being gathered, or without a session). */
  get running(): boolean {
    return this.current()?.ledger.phase === 'running';
  }

  /** The active vmem session (the one the debug toolbar shows, else the latest vmem session). */
  get session(): vscode.DebugSession | undefined {
    return this.current()?.session;
  }

  /** The last statistics the active session sent (at its last stop or while running). */
  get statistics(): StatisticsWire | undefined {
    return this.current()?.statistics;
  }

  /** A views request to the active session. Rejects with a VmemRequestError: 'no-session', 'stale' (the session stopped, resumed or ended meanwhile) or 'adapter'. */
  async request<K extends ViewRequestName>(name: K, args: ViewRequests[K]['args']): Promise<ViewRequests[K]['body']> {
    const rec = this.current();
    if (!rec) throw new VmemRequestError('no-session', 'no vmem debug session');
    return (await this.ask(rec, name, args)) as ViewRequests[K]['body'];
  }

  /**
   * Like request(), but every caller asking the same request with the same arguments while the
   * machine stays as it is (the same stop, no debugger write since) shares one answer: the views
   * and panels that all read e.g. the vCPU's TLB at a stop send one request, not one each.
   */
  shared<K extends ViewRequestName>(name: K, args: ViewRequests[K]['args']): Promise<ViewRequests[K]['body']> {
    const rec = this.current();
    if (!rec) return Promise.reject(new VmemRequestError('no-session', 'no vmem debug session'));
    if (rec.sharedEpoch !== rec.ledger.epoch) {
      rec.shared.clear();
      rec.sharedEpoch = rec.ledger.epoch;
    }
    const key = `${name} ${JSON.stringify(args)}`;
    let p = rec.shared.get(key) as Promise<ViewRequests[K]['body']> | undefined;
    if (!p) {
      const asked: Promise<ViewRequests[K]['body']> = this.ask(rec, name, args) as Promise<ViewRequests[K]['body']>;
      p = asked;
      rec.shared.set(key, asked);
      asked.catch(() => {
        if (rec.shared.get(key) === asked) rec.shared.delete(key);
      });
    }
    return p;
  }

  /** Evaluates in the selected frame (or the selected thread's top frame); rejects like request(). */
  async evaluate(expression: string, context: 'repl' | 'watch' | 'hover' = 'repl'): Promise<string> {
    const rec = this.current();
    if (!rec) throw new VmemRequestError('no-session', 'no vmem debug session');
    const st = rec.state;
    let frameId = st?.frameId;
    if (st && frameId === undefined) {
      const trace = (await this.ask(rec, 'stackTrace', { threadId: st.threadId, startFrame: 0, levels: 1 })) as { stackFrames?: { id?: unknown }[] } | undefined;
      const id = trace?.stackFrames?.[0]?.id;
      frameId = typeof id === 'number' ? id : undefined;
    }
    const body = (await this.ask(rec, 'evaluate', { expression, frameId, context })) as { result?: unknown } | undefined;
    return typeof body?.result === 'string' ? body.result : '';
  }

  // ------------------------------------------------------------------ plumbing

  private current(): SessionRecord | undefined {
    const active = vscode.debug.activeDebugSession;
    if (active?.type === VMEM_DEBUG_TYPE) {
      const rec = this.records.get(active.id);
      if (rec) return rec;
    }
    return this.currentId !== undefined ? this.records.get(this.currentId) : undefined;
  }

  private isCurrent(rec: SessionRecord): boolean {
    return this.current() === rec;
  }

  private recordOf(session: vscode.DebugSession): SessionRecord {
    let rec = this.records.get(session.id);
    if (!rec) {
      rec = { session, ledger: new StopLedger(), places: new Map(), shared: new Map(), sharedEpoch: 0 };
      this.records.set(session.id, rec);
      this.currentId = session.id;
    }
    return rec;
  }

  /** One request in the record's current epoch; an answer from a later epoch is 'stale'. */
  private async ask(rec: SessionRecord, command: string, args: unknown): Promise<unknown> {
    const epoch = rec.ledger.epoch;
    let body: unknown;
    try {
      body = await rec.session.customRequest(command, args);
    } catch (e) {
      throw new VmemRequestError(rec.ledger.isCurrent(epoch) ? 'adapter' : 'stale', `${command}: ${messageOf(e)}`);
    }
    if (!rec.ledger.isCurrent(epoch) || this.records.get(rec.session.id) !== rec) throw new VmemRequestError('stale', `${command}: the session moved on`);
    return body;
  }

  private onAdapterMessage(session: vscode.DebugSession, message: unknown): void {
    const m = message as { type?: unknown; event?: unknown; body?: unknown };
    if (m.type !== 'event') return;
    const rec = this.recordOf(session);
    switch (m.event) {
      case 'stopped': {
        const b = (m.body ?? {}) as StoppedBody;
        void this.gatherStop(rec, typeof b.reason === 'string' ? b : { ...b, reason: 'stopped' });
        break;
      }
      case 'continued':
        this.onResumed(rec);
        break;
      case 'terminated':
        this.onEnded(session);
        break;
      case 'vmem/stopped':
        this.onStopContext(rec, m.body);
        break;
      case 'vmem/statistics':
        rec.statistics = m.body as StatisticsWire;
        if (this.isCurrent(rec)) this.statisticsOut(rec.statistics);
        break;
      case 'vmem/showTranslation': {
        const request = showTranslationOf(m.body);
        if (request) this.translationEmitter.fire({ session, ...request });
        break;
      }
    }
  }

  private onClientMessage(session: vscode.DebugSession, message: unknown): void {
    const m = message as { type?: unknown; command?: unknown };
    if (m.type !== 'request' || typeof m.command !== 'string') return;
    if (RESUMING_REQUESTS.has(m.command)) this.onResumed(this.recordOf(session));
    // A register or memory write changes what the shared answers describe.
    else if (MACHINE_WRITING_REQUESTS.has(m.command)) this.recordOf(session).shared.clear();
  }

  /** The adapter's `vmem/stopped` event: hands the stop being gathered its context. */
  private onStopContext(rec: SessionRecord, body: unknown): void {
    const c = stopContextOf(body);
    if (!c) return;
    rec.sendsStopContext = true;
    const waiting = rec.awaitingContext;
    if (!waiting) return;
    rec.awaitingContext = undefined;
    waiting.done(c.threadId === waiting.threadId ? c : undefined);
  }

  /** The stop's `vmem/stopped` event, or undefined when the adapter does not send it (in time). */
  private stopContext(rec: SessionRecord, threadId: number): Promise<StopContextWire | undefined> {
    rec.awaitingContext?.done(undefined);
    rec.awaitingContext = undefined;
    if (rec.sendsStopContext === false) return Promise.resolve(undefined);
    return new Promise((ok) => {
      const waiting = {
        threadId,
        done: (c: StopContextWire | undefined): void => {
          clearTimeout(timer);
          ok(c);
        },
      };
      const timer = setTimeout(() => {
        if (rec.awaitingContext !== waiting) return;
        rec.awaitingContext = undefined;
        rec.sendsStopContext ??= false;
        ok(undefined);
      }, STOP_CONTEXT_WAIT_MS);
      rec.awaitingContext = waiting;
    });
  }

  private onResumed(rec: SessionRecord): void {
    rec.awaitingContext?.done(undefined);
    rec.awaitingContext = undefined;
    if (!rec.ledger.resumed()) return;
    rec.state = undefined;
    rec.pendingSelection = undefined;
    if (this.isCurrent(rec)) this.resumeEmitter.fire();
  }

  private onEnded(session: vscode.DebugSession): void {
    const rec = this.records.get(session.id);
    if (!rec) return;
    const wasCurrent = this.isCurrent(rec);
    rec.ledger.ended();
    rec.state = undefined;
    rec.awaitingContext?.done(undefined);
    rec.awaitingContext = undefined;
    rec.shared.clear();
    this.records.delete(session.id);
    if (this.currentId === session.id) this.currentId = [...this.records.keys()].pop();
    if (wasCurrent) {
      this.statisticsOut.cancel();
      this.endEmitter.fire();
    }
  }

  private onActiveSession(s: vscode.DebugSession | undefined): void {
    if (s?.type !== VMEM_DEBUG_TYPE) return;
    const rec = this.records.get(s.id);
    if (!rec) return;
    const changed = this.currentId !== s.id;
    this.currentId = s.id;
    if (!changed) return;
    if (rec.state) this.selectionEmitter.fire(rec.state);
    else this.resumeEmitter.fire();
  }

  /**
   * Gathers a stop's state and announces it if still current: the stopped thread's place and
   * focus address from the `vmem/stopped` event that follows `stopped`; from an adapter without
   * it, the threads' places, then the focus address (two round trips).
   */
  private async gatherStop(rec: SessionRecord, body: StoppedBody): Promise<void> {
    const epoch = rec.ledger.stopped();
    rec.state = undefined;
    rec.pendingSelection = undefined;
    const threadId = typeof body.threadId === 'number' ? body.threadId : 1;
    rec.stop = { ...body, threadId };
    const told = await this.stopContext(rec, threadId);
    if (!rec.ledger.isCurrent(epoch)) return;
    let place: ThreadPlace;
    let focus: Focus | undefined;
    if (told) {
      const known = rec.places.get(threadId);
      place = known && known.vm === told.vm && known.vcpu === told.vcpu ? known : { threadId, vm: told.vm, vcpu: told.vcpu, name: `vm${told.vm}/vcpu${told.vcpu}`, vmName: `vm${told.vm}` };
      rec.places.set(threadId, place);
      focus = focusOfWire(told.context);
      // The other threads' places (for a thread picked later), once per session, not waited for.
      if (!rec.threadsRead) void this.readPlaces(rec);
    } else {
      await this.readPlaces(rec);
      if (!rec.ledger.isCurrent(epoch)) return;
      place = this.placeOf(rec, threadId);
      focus = undefined;
    }
    // The user may have picked a thread meanwhile.
    const picked = pendingOf(rec);
    if (picked && picked.threadId !== place.threadId) place = this.placeOf(rec, picked.threadId);
    if (!told || place.threadId !== threadId) focus = await this.focusOf(rec, place, epoch);
    if (!rec.ledger.isCurrent(epoch)) return;
    const latest = pendingOf(rec) ?? picked;
    const finalPlace = latest && latest.threadId !== place.threadId ? this.placeOf(rec, latest.threadId) : place;
    const finalFocus = finalPlace === place ? focus : await this.focusOf(rec, finalPlace, epoch);
    if (!rec.ledger.settled(epoch)) return;
    rec.pendingSelection = undefined;
    rec.state = {
      session: rec.session, threadId: finalPlace.threadId, vm: finalPlace.vm, vcpu: finalPlace.vcpu, frameId: latest?.frameId,
      stopCount: rec.ledger.stopCount, reason: body.reason, description: body.description, focusAddress: finalFocus?.address, focusAccess: finalFocus?.access,
    };
    if (this.isCurrent(rec)) this.stopEmitter.fire(rec.state);
  }

  /** Reads every thread's place (their names say which VM and vCPU each is). */
  private async readPlaces(rec: SessionRecord): Promise<void> {
    try {
      const places = placesOfThreads(threadsOfResponse(await this.ask(rec, 'threads', {})));
      if (places.size === 0) return;
      rec.places = places;
      rec.threadsRead = true;
    } catch {
      // The session moved on, or no answer: the places guessed from thread ids serve meanwhile.
    }
  }

  private placeOf(rec: SessionRecord, threadId: number): ThreadPlace {
    const p = rec.places.get(threadId);
    if (p) return p;
    const guess = placeFromThreadId(threadId);
    return { threadId, ...guess, name: `vm${guess.vm}/vcpu${guess.vcpu}`, vmName: `vm${guess.vm}` };
  }

  /** vmem/context's focus address; from an adapter without it, the stopping event's gva (on the stopped thread only). */
  private async focusOf(rec: SessionRecord, place: ThreadPlace, epoch: number): Promise<Focus | undefined> {
    if (rec.hasContext !== false) {
      try {
        const args: ViewRequests['vmem/context']['args'] = { vm: place.vm, vcpu: place.vcpu };
        const body = (await this.ask(rec, 'vmem/context', args)) as ViewRequests['vmem/context']['body'] | undefined;
        rec.hasContext = true;
        return focusOfWire(body);
      } catch (e) {
        if (!rec.ledger.isCurrent(epoch)) return undefined;
        if (e instanceof VmemRequestError && e.failure === 'adapter' && /unrecognized request/.test(e.message)) rec.hasContext = false;
        else if (rec.hasContext === true) return undefined;
      }
    }
    if (rec.stop?.reason !== 'exception' || rec.stop.threadId !== place.threadId) return undefined;
    try {
      const address = focusOfExceptionInfo(await this.ask(rec, 'exceptionInfo', { threadId: place.threadId }));
      return address === undefined ? undefined : { address };
    } catch {
      return undefined;
    }
  }

  private onStackItem(item: vscode.DebugThread | vscode.DebugStackFrame | undefined): void {
    if (!item || item.session.type !== VMEM_DEBUG_TYPE) return;
    const rec = this.records.get(item.session.id);
    if (!rec) return;
    const frameId = item instanceof vscode.DebugStackFrame ? item.frameId : undefined;
    const pick = { threadId: item.threadId, frameId };
    if (rec.ledger.phase === 'stopping') {
      rec.pendingSelection = pick;
      return;
    }
    if (rec.ledger.phase !== 'stopped' || !rec.state) return;
    void this.select(rec, rec.state, pick);
  }

  private async select(rec: SessionRecord, from: StopState, pick: { threadId: number; frameId: number | undefined }): Promise<void> {
    if (pick.threadId === from.threadId) {
      if (pick.frameId === from.frameId) return;
      const hadFrame = from.frameId !== undefined;
      rec.state = { ...from, frameId: pick.frameId };
      // VS Code's own focus on the stopped thread's top frame is not a choice the views need to hear.
      if (hadFrame && this.isCurrent(rec)) this.selectionEmitter.fire(rec.state);
      return;
    }
    const epoch = rec.ledger.epoch;
    const place = this.placeOf(rec, pick.threadId);
    const focus = await this.focusOf(rec, place, epoch);
    if (!rec.ledger.isCurrent(epoch) || rec.state !== from) return;
    rec.state = { ...from, threadId: place.threadId, vm: place.vm, vcpu: place.vcpu, frameId: pick.frameId, focusAddress: focus?.address, focusAccess: focus?.access };
    if (this.isCurrent(rec)) this.selectionEmitter.fire(rec.state);
  }
}
