// The views' refresh at a step, end to end inside the real extension host (code-server's): what a
// user waits for after F10 with every VMem view open on a guest mapping 100,000 pages
// (examples/bench-many-pages.s). Per mode: stop in the `touch` loop; the VMem container shown with
// Page Tables (collapsed, then Reveal Current Walk: the path to the focus address expanded), TLB
// and Events; the Address Translation, Machine Memory and Event Timeline panels open side by
// side; then `warmup` + `steps` steps over (the Step Over command, as F10). For each step:
//   from  the `stopped` event reaching the extension host (a debug adapter tracker's timestamp)
//   to    the last of: every tree view's getChildren calls answered (children and TreeItems built;
//         the views' onDidAnswerChildren hook) and every panel's update message posted
//         (onDidPostMessage: translation, frameMap, events).
// The refresh is taken as done when the tables expanded at the warm-up steps and every panel's
// update have been answered again and nothing more happened for `quietMs` (the quiet window is
// not counted: the figure is the last answer's time). The Page Tables view redraws only the
// tables that changed since the previous stop and says which (onDidCheckTables): then its
// refresh is done at the last of those answers, or at the check itself when nothing changed. Meanwhile a 5 ms timer measures the
// extension host's event-loop lag ("no view ever blocks the extension host"). Also reported: when
// the workbench acknowledged the panels' messages (postMessage resolved), and step → stopped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { StopState } from '../../src/extension/session';
import type { VmemExtensionApi } from '../../src/extension/extension';
import { waitFor, workspaceFolder } from '../../test/extensionHost/hostHelpers';
import { endSession, nextStop, vmemApi } from '../../test/extensionHost/vmemSession';
import type { VmemApi } from '../../test/extensionHost/vmemSession';

export const TREE_VIEWS = ['vmem.pageTables', 'vmem.tlb', 'vmem.events'] as const;
/** Each panel's view type → the messages that carry its update at a stop. */
export const PANEL_UPDATES: Record<string, readonly string[]> = {
  'vmem.addressTranslation': ['translation', 'translationError'],
  'vmem.machineMemory': ['frameMap'],
  'vmem.eventTimeline': ['events'],
};
const PANEL_COMMANDS = ['vmem.showAddressTranslation', 'vmem.showMachineMemory', 'vmem.showEventTimeline'];
/** Views that refresh at a stop only when something new came (Events: only when there are new events). */
const OPTIONAL = new Set<string>(['vmem.events']);
export const TARGET_MS = 50;
const LAG_INTERVAL_MS = 5;
/** gva of the first of bench-many-pages.s's 100,000 pages. */
const MANY_PAGES_BASE = 0x40000000n;
/** The mark of the Page Tables view's check of a stop's tables (not a getChildren answer). */
const CHECKED = '<checked>';

export interface BenchOptions {
  modes: string[];
  steps: number;
  warmup: number;
  quietMs: number;
  timeoutMs: number;
  /** Open the three panels (false: the tree views alone, to see what the panels cost the trees). */
  panels: boolean;
}

export interface Stats {
  p50: number;
  p95: number;
  max: number;
}

export interface ModeFigures {
  mode: string;
  steps: number;
  warmup: number;
  /** stopped event → every open view refreshed. */
  refreshMs: Stats & { target: number };
  /** Per view: stopped event → its last answer or update message; `refreshed`: in how many steps it refreshed at all. */
  perView: Record<string, Stats & { refreshed: number; answersPerStep: number }>;
  /** stopped event → the last panel update acknowledged by the workbench (postMessage resolved). */
  panelsDeliveredMs: Stats;
  /** Step Over issued → stopped event reaches the extension host. */
  stepToStopMs: Stats;
  /**
   * How late a 5 ms timer in the extension host fired, over the measured steps; `over50`: ticks
   * later than 50 ms; `maxOnCpu`/`over50OnCpu`: the same for ticks during which the host process
   * was itself running (≥ 80 % CPU), i.e. its event loop was busy rather than waiting for a core.
   */
  eventLoopLagMs: Stats & { samples: number; over50: number; maxOnCpu: number; over50OnCpu: number };
  /** stopped event → VmemSessions.onDidStop (threads and vmem/context gathered: what every view waits for). */
  sessionStopMs: Stats;
  /**
   * One views request from the extension host through the workbench to the adapter and back
   * (`vmem/statistics`, 20 in a row, with the views idle): the floor under each link of a refresh.
   */
  idleRoundTripMs: Stats;
  /**
   * The workbench's own pace: stopped event → VS Code's CALL STACK asking for the stopped
   * thread's frames (its first `stackTrace` request after the stop), and in how many steps
   * every VMem view had refreshed before that request arrived.
   */
  workbenchCallStackMs: Stats & { viewsFirst: number };
  /** Steps whose refresh was still missing an expected answer at the time limit (listed). */
  incomplete: string[];
  /** What was open: tree views visible, webview panels visible in their editor groups. */
  open: { treeViews: string[]; panels: string[]; pageTablesExpanded: number };
}

export interface BenchResult {
  benchmark: string;
  program: string;
  pages: number;
  adapter: string;
  host: { node: string; vscode: string; platform: string };
  options: BenchOptions;
  modes: ModeFigures[];
}

interface Mark {
  t: number;
  source: string;
  key: string;
}

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));
const round = (x: number): number => Number(x.toFixed(2));

export function stats(xs: number[]): Stats {
  if (xs.length === 0) return { p50: NaN, p95: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => round(s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]);
  return { p50: at(0.5), p95: at(0.95), max: round(s[s.length - 1]) };
}

/** How late each tick of a LAG_INTERVAL_MS timer fires: the event loop's blocking, sampled. */
class LagProbe {
  readonly samples: number[] = [];
  /**
   * The lags during which this process itself was on a CPU for ≥ 80 % of the wall time: the
   * event loop was busy (JS, GC), not merely descheduled because other processes had the cores.
   */
  readonly onCpu: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private cpu = process.cpuUsage();

  start(): void {
    this.last = now();
    this.cpu = process.cpuUsage();
    const tick = (): void => {
      const t = now();
      const cpu = process.cpuUsage();
      const lag = Math.max(0, t - this.last - LAG_INTERVAL_MS);
      const busyMs = (cpu.user - this.cpu.user + cpu.system - this.cpu.system) / 1000;
      this.samples.push(lag);
      if (lag > 0 && busyMs >= 0.8 * (t - this.last)) this.onCpu.push(lag);
      this.last = t;
      this.cpu = cpu;
      this.timer = setTimeout(tick, LAG_INTERVAL_MS);
    };
    this.timer = setTimeout(tick, LAG_INTERVAL_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Everything the hooks report, timestamped as it arrives (same clock as the stopped events). */
class Recorder implements vscode.Disposable {
  readonly marks: Mark[] = [];
  /** The Page Tables view's checks (onDidCheckTables), in order. */
  readonly checks: { t: number; expect: string[] }[] = [];
  readonly deliveries: { posted: number; t: number; source: string; ok: boolean }[] = [];
  readonly stops: number[] = [];
  /** When VmemSessions announced each stop (threads and vmem/context gathered): onDidStop. */
  readonly stopStates: number[] = [];
  /** When VS Code's own `stackTrace` requests reached the adapter (its CALL STACK view). */
  readonly stackTraces: number[] = [];
  /** With VMEM_BENCH_TRACE=1: the DAP traffic, to see what a refresh waits for. */
  readonly trace = process.env.VMEM_BENCH_TRACE === '1';
  readonly dap: { t: number; what: string }[] = [];
  private readonly subs: vscode.Disposable[];

  constructor(a: VmemExtensionApi) {
    if (!a.views || !a.webviews) throw new Error('the extension registered no views or webviews');
    this.subs = [
      a.sessions.onDidStop(() => this.stopStates.push(now())),
      a.views.onDidAnswerChildren((e) => this.marks.push({ t: now(), source: e.viewId, key: e.nodeId ?? '<root>' })),
      // The Page Tables view checked the stop's open tables: it redraws only those that changed
      // (`expect`: the nodes it will be asked for; none when nothing changed). An extension built
      // before the check (to measure it against) has no such event.
      ...(a.views.onDidCheckTables ? [a.views.onDidCheckTables((e) => {
        this.marks.push({ t: now(), source: 'vmem.pageTables', key: CHECKED });
        this.checks.push({ t: now(), expect: e.expect });
      })] : []),
      a.webviews.onDidPostMessage((e) => {
        const posted = now();
        if (e.type === undefined || !PANEL_UPDATES[e.viewType]?.includes(e.type)) return;
        this.marks.push({ t: posted, source: e.viewType, key: 'update' });
        void Promise.resolve(e.delivered).then((ok) => this.deliveries.push({ posted, t: now(), source: e.viewType, ok }));
      }),
      vscode.debug.registerDebugAdapterTrackerFactory('vmem', {
        createDebugAdapterTracker: () => ({
          onDidSendMessage: (m: unknown) => {
            const msg = m as { type?: unknown; event?: unknown; command?: unknown; request_seq?: unknown };
            const t = now();
            if (msg.type === 'event' && msg.event === 'stopped') this.stops.push(t);
            if (this.trace) this.dap.push({ t, what: msg.type === 'event' ? `event ${String(msg.event)}` : `response ${String(msg.command)} #${String(msg.request_seq)}` });
          },
          onWillReceiveMessage: (m: unknown) => {
            const msg = m as { command?: unknown; seq?: unknown };
            if (msg.command === 'stackTrace') this.stackTraces.push(now());
            if (this.trace) this.dap.push({ t: now(), what: `request ${String(msg.command)} #${String(msg.seq)}` });
          },
        }),
      }),
    ];
  }

  since(t: number): Mark[] {
    const out: Mark[] = [];
    for (let i = this.marks.length - 1; i >= 0 && this.marks[i].t >= t; i--) out.push(this.marks[i]);
    return out.reverse();
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}

interface StepRecord {
  issued: number;
  stopped: number;
  marks: Mark[];
  missing: string[];
}

/** Steps over once and waits for the views to settle. */
async function stepAndSettle(rec: Recorder, required: Map<string, Set<string>>, o: BenchOptions): Promise<StepRecord> {
  const n = rec.stops.length;
  const issued = now();
  await vscode.commands.executeCommand('workbench.action.debug.stepOver');
  const stopped = await waitFor('the stopped event after Step Over', () => (rec.stops.length > n ? rec.stops[n] : undefined), o.timeoutMs);
  for (;;) {
    await sleep(20);
    const marks = rec.since(stopped);
    const last = marks.length > 0 ? marks[marks.length - 1].t : stopped;
    const missing: string[] = [];
    // A Page Tables view that checked its tables redraws what changed: wait for exactly those answers.
    const check = rec.checks.find((c) => c.t >= stopped);
    const want = new Map(required);
    if (check) want.set('vmem.pageTables', new Set([CHECKED, ...check.expect]));
    for (const [source, keys] of want) {
      for (const k of keys) if (!marks.some((m) => m.source === source && (k === '*' || m.key === k))) missing.push(`${source}:${k}`);
    }
    if (missing.length === 0 && now() - last >= o.quietMs) return { issued, stopped, marks, missing };
    if (now() - stopped > o.timeoutMs) return { issued, stopped, marks, missing };
  }
}

/** What answered after a stop: per source, how many and the last one's time after the stop. */
function summary(r: StepRecord): string {
  const by = new Map<string, Mark[]>();
  for (const m of r.marks) by.set(m.source, [...(by.get(m.source) ?? []), m]);
  const parts = [...by].map(([src, ms]) => `${src.replace('vmem.', '')} ${ms.length}× ≤${(ms[ms.length - 1].t - r.stopped).toFixed(0)} ms`);
  return `${parts.join(', ') || 'nothing'}${r.missing.length ? `; missing ${r.missing.join(', ')}` : ''}`;
}

/** The `touch` loop's first instruction (0-based line): where each run stops first. */
function touchLine(program: string): number {
  const lines = readFileSync(program, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('touch:'));
  if (i < 0) throw new Error(`no touch: label in ${program}`);
  return i + 1;
}

async function launchAtTouch(a: VmemApi, program: string, mode: string): Promise<StopState> {
  const bp = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(program), new vscode.Position(touchLine(program), 0)));
  vscode.debug.addBreakpoints([bp]);
  try {
    const stop = nextStop(a, () => true, 120_000);
    const ok = await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: `views bench (${mode})`, program, mode });
    if (!ok) throw new Error(`startDebugging failed for ${mode}`);
    return await stop;
  } finally {
    vscode.debug.removeBreakpoints([bp]);
  }
}

/** Panels visible in their editor groups (a hidden webview is torn down and draws nothing). */
function visiblePanels(): string[] {
  const out: string[] = [];
  for (const g of vscode.window.tabGroups.all) {
    const input = g.activeTab?.input;
    if (input instanceof vscode.TabInputWebview) {
      const type = Object.keys(PANEL_UPDATES).find((t) => input.viewType === t || input.viewType.endsWith(`-${t}`));
      if (type) out.push(type);
    }
  }
  return out.sort();
}

/** Opens the VMem container with all three trees visible, reveals the walk, opens the panels. */
async function openEverything(a: VmemApi, rec: Recorder, quietMs: number, panels: boolean): Promise<ModeFigures['open']> {
  await vscode.commands.executeCommand('workbench.view.extension.vmem');
  for (const id of TREE_VIEWS) await vscode.commands.executeCommand(`${id}.focus`);
  const views = [a.views.pageTablesView, a.views.tlbView, a.views.eventsView];
  await waitFor('the three VMem tree views to be visible', () => (views.every((v) => v.visible) ? true : undefined), 15_000);
  await vscode.commands.executeCommand('workbench.actions.treeView.vmem.pageTables.collapseAll');
  let expanded = 0;
  const sub = a.views.pageTablesView.onDidExpandElement(() => expanded++);
  try {
    await vscode.commands.executeCommand('vmem.pageTables.revealCurrentWalk');
    await waitFor('Reveal Current Walk to select the leaf', () => (a.views.pageTablesView.selection.length > 0 ? true : undefined), 15_000);
  } finally {
    sub.dispose();
  }
  // Each panel opens beside the active editor: source | translation | memory | timeline.
  const have = visiblePanels();
  for (const [i, cmd] of (panels ? PANEL_COMMANDS : []).entries()) {
    const type = Object.keys(PANEL_UPDATES)[i];
    if (have.includes(type)) continue;
    const t = now();
    await vscode.commands.executeCommand(cmd);
    // Its page loads and says `ready`; the host answers with this stop's update.
    await waitFor(`the ${type} panel's first update`, () => (rec.since(t).some((m) => m.source === type) ? true : undefined), 30_000);
  }
  // The stop's source back in front in the first group (the panels stay visible in theirs).
  await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
  await waitFor('the views to go quiet', () => {
    const m = rec.marks[rec.marks.length - 1];
    return !m || now() - m.t > quietMs ? true : undefined;
  }, 30_000);
  return { treeViews: TREE_VIEWS.filter((_, i) => views[i].visible), panels: visiblePanels(), pageTablesExpanded: expanded };
}

async function benchMode(a: VmemApi, rec: Recorder, mode: string, o: BenchOptions, log: (m: string) => void): Promise<ModeFigures> {
  const program = join(workspaceFolder().uri.fsPath, 'bench-many-pages.s');
  let stop = await launchAtTouch(a, program, mode);
  try {
    // Into the loop until the focus address is one of the 100,000 pages (the first stop's is code).
    for (let i = 0; i < 5 && !(stop.focusAddress && BigInt(stop.focusAddress) >= MANY_PAGES_BASE); i++) {
      const before = stop.stopCount;
      const next = nextStop(a, (s) => s.stopCount > before);
      await vscode.commands.executeCommand('workbench.action.debug.stepOver');
      stop = await next;
    }
    log(`${mode}: stopped in the touch loop (focus ${stop.focusAddress ?? '—'})`);
    const open = await openEverything(a, rec, o.quietMs, o.panels);
    log(`${mode}: open: ${open.treeViews.join(', ')}; panels ${open.panels.join(', ')}; ${open.pageTablesExpanded} page-table nodes expanded by Reveal Current Walk`);
    if (open.treeViews.length !== TREE_VIEWS.length) throw new Error(`not every tree view is visible: ${open.treeViews.join(', ')}`);
    if (open.panels.length !== (o.panels ? Object.keys(PANEL_UPDATES).length : 0)) throw new Error(`not every panel is visible: ${open.panels.join(', ')}`);

    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = now();
      await a.sessions.request('vmem/statistics', {});
      roundTrips.push(now() - t);
    }

    // Warm-up: what the views ask at a step once the tree is as expanded as it stays.
    // At first: anything from every view but the optional ones ('*').
    const sources = [...TREE_VIEWS, ...(o.panels ? Object.keys(PANEL_UPDATES) : [])];
    let required = new Map<string, Set<string>>(sources.filter((s) => !OPTIONAL.has(s)).map((s) => [s, new Set(['*'])]));
    for (let i = 0; i < o.warmup; i++) {
      const r = await stepAndSettle(rec, required, o);
      log(`${mode}: warm-up step ${i + 1}: ${summary(r)}`);
      if (rec.trace) {
        const marks = [...rec.dap.filter((d) => d.t >= r.issued).map((d) => ({ t: d.t, what: `dap ${d.what}` })), ...r.marks.map((m) => ({ t: m.t, what: `view ${m.source} ${m.key}` })), ...rec.stopStates.filter((t) => t >= r.stopped).map((t) => ({ t, what: 'VmemSessions.onDidStop' }))];
        marks.sort((x, y) => x.t - y.t);
        for (const m of marks) log(`  +${(m.t - r.stopped).toFixed(1).padStart(7)} ms  ${m.what}`);
      }
      required = new Map();
      for (const m of r.marks) {
        // A check says per step what to wait for; a step redrawn whole waits for these answers and goes quiet.
        if (OPTIONAL.has(m.source)) continue;
        if (!required.has(m.source)) required.set(m.source, new Set());
        if (m.key !== CHECKED) required.get(m.source)!.add(m.key);
      }
    }
    for (const src of sources) {
      if (!OPTIONAL.has(src) && !required.has(src)) throw new Error(`${mode}: ${src} did not refresh at the warm-up steps`);
    }
    log(`${mode}: each step answers ${[...required].map(([s, k]) => `${s.replace('vmem.', '')} ${k.size}`).join(', ')}`);

    const lag = new LagProbe();
    lag.start();
    const records: StepRecord[] = [];
    try {
      for (let i = 0; i < o.steps; i++) records.push(await stepAndSettle(rec, required, o));
    } finally {
      lag.stop();
    }
    await sleep(50); // the last postMessage acknowledgements

    const refresh: number[] = [];
    const delivered: number[] = [];
    const perView = new Map<string, { times: number[]; answers: number }>();
    const incomplete: string[] = [];
    const sessionStop: number[] = [];
    const callStack: number[] = [];
    let viewsFirst = 0;
    records.forEach((r, i) => {
      const asked = rec.stackTraces.find((t) => t >= r.stopped && t < (records[i + 1]?.issued ?? Infinity));
      if (asked !== undefined) {
        callStack.push(asked - r.stopped);
        if (r.marks.length > 0 && r.marks[r.marks.length - 1].t <= asked) viewsFirst++;
      }
      const announced = rec.stopStates.find((t) => t >= r.stopped);
      if (announced !== undefined) sessionStop.push(announced - r.stopped);
      refresh.push(r.marks.length > 0 ? r.marks[r.marks.length - 1].t - r.stopped : 0);
      for (const src of sources) {
        const mine = r.marks.filter((m) => m.source === src);
        const v = perView.get(src) ?? { times: [], answers: 0 };
        if (mine.length > 0) v.times.push(mine[mine.length - 1].t - r.stopped);
        v.answers += mine.filter((m) => m.key !== CHECKED).length;
        perView.set(src, v);
      }
      const next = records[i + 1]?.issued ?? Infinity;
      const acks = rec.deliveries.filter((d) => d.posted >= r.stopped && d.posted < next);
      if (acks.length > 0) delivered.push(Math.max(...acks.map((d) => d.t)) - r.stopped);
      if (r.missing.length > 0) incomplete.push(`step ${i + 1}: ${r.missing.join(', ')}`);
    });
    const lagStats = stats(lag.samples);
    return {
      mode,
      steps: o.steps,
      warmup: o.warmup,
      refreshMs: { ...stats(refresh), target: TARGET_MS },
      perView: Object.fromEntries([...perView].map(([src, v]) => [src, { ...stats(v.times), refreshed: v.times.length, answersPerStep: round(v.answers / records.length) }])),
      panelsDeliveredMs: stats(delivered),
      stepToStopMs: stats(records.map((r) => r.stopped - r.issued)),
      eventLoopLagMs: {
        ...lagStats, samples: lag.samples.length, over50: lag.samples.filter((x) => x > 50).length,
        maxOnCpu: round(Math.max(0, ...lag.onCpu)), over50OnCpu: lag.onCpu.filter((x) => x > 50).length,
      },
      sessionStopMs: stats(sessionStop),
      idleRoundTripMs: stats(roundTrips),
      workbenchCallStackMs: { ...stats(callStack), viewsFirst },
      incomplete,
      open,
    };
  } finally {
    await endSession(a);
  }
}

export async function benchViewsInHost(o: BenchOptions, log: (m: string) => void): Promise<BenchResult> {
  const a = await vmemApi();
  const rec = new Recorder(a);
  try {
    const modes: ModeFigures[] = [];
    for (const mode of o.modes) modes.push(await benchMode(a, rec, mode, o, log));
    return {
      benchmark: 'views refresh at a step, end to end in the extension host (stopped event → every open view refreshed)',
      program: 'examples/bench-many-pages.s',
      pages: 100_000,
      adapter: vscode.workspace.getConfiguration().get<string>('vmem.debugAdapter.mode', 'inline'),
      host: { node: process.version, vscode: vscode.version, platform: `${process.platform}/${process.arch}` },
      options: o,
      modes,
    };
  } finally {
    rec.dispose();
  }
}
