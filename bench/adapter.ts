// The debug adapter's own cost, driven in-process (no socket: the adapter, not the transport):
// the step round trip (next → stopped → stackTrace/scopes/variables answered; target ≤ 20 ms
// median), and a continue with every event filter armed but none firing against the engine's
// plain speed on the same program (target ≥ 0.9×). The filters' condition is the constant `0`,
// which the runtime folds (the kinds are not listened to at all); `liveCondition` is the same
// continue with `rip == 0`, which every event of every armed kind evaluates (tlb-miss arms the
// MMU's per-miss hook): what arming really costs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VmemDebugSession } from '../src/debugAdapter/session';
import { EVENT_FILTERS } from '../src/debugAdapter/runtime/eventFilters';
import { assembleText } from '../src/engine/isa/assembler';
import { runProgram } from '../src/engine/runner';
import { benchLoopSource } from './loopProgram';

/** A session answering requests in-process: each request a promise of its response. */
class InProcessClient {
  private seq = 1;
  private readonly waiting = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly eventWaiters: { event: string; ok: (e: DebugProtocol.Event) => void }[] = [];
  readonly session = new VmemDebugSession();

  constructor() {
    this.session.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      if (process.env.BENCH_DEBUG) process.stderr.write(JSON.stringify(msg).slice(0, 150) + '\n');
      if (msg.type === 'response') {
        const r = msg as DebugProtocol.Response;
        this.waiting.get(r.request_seq)?.(r);
        this.waiting.delete(r.request_seq);
      } else if (msg.type === 'event') {
        const e = msg as DebugProtocol.Event;
        const i = this.eventWaiters.findIndex((w) => w.event === e.event);
        if (i >= 0) this.eventWaiters.splice(i, 1)[0].ok(e);
      }
    });
  }

  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    return new Promise((ok, fail) => {
      this.waiting.set(seq, (r) => (r.success ? ok(r) : fail(new Error(`${command}: ${r.message}`))));
      this.session.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  event(name: string): Promise<DebugProtocol.Event> {
    return new Promise((ok) => this.eventWaiters.push({ event: name, ok }));
  }
}

async function launch(program: string, stopOnEntry: boolean, filters: string[], condition = '0'): Promise<InProcessClient> {
  const c = new InProcessClient();
  await c.request('initialize', { adapterID: 'vmem', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const initialized = c.event('initialized');
  const stopped = stopOnEntry ? c.event('stopped') : null;
  const launched = c.request('launch', { program, stopOnEntry, maxSteps: 1e9 });
  await initialized;
  // Armed with a condition that never holds: every armed kind is listened to, none stops.
  await c.request('setExceptionBreakpoints', { filters: [], filterOptions: filters.map((filterId) => ({ filterId, condition })) });
  await c.request('configurationDone');
  await launched;
  if (stopped) await stopped;
  return c;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface AdapterFigures {
  stepRoundTripMs: { median: number; p90: number; steps: number; target: number };
  continueAllFiltersArmed: { adapterSeconds: number; engineSeconds: number; instructions: number; ratio: number; target: number; liveCondition: { adapterSeconds: number; ratio: number } };
}

export async function benchAdapter(steps = 200, iterations = 3_000_000, repeats = 3): Promise<AdapterFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'vmem-bench-'));
  const program = join(dir, 'bench-loop.s');
  const source = benchLoopSource(iterations, false);
  writeFileSync(program, source);

  // Step round trip: next, the stopped event, then what a client asks at every stop.
  const c = await launch(program, true, []);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = process.hrtime.bigint();
    const stopped = c.event('stopped');
    await c.request('next', { threadId: 1 });
    await stopped;
    const st = (await c.request('stackTrace', { threadId: 1 })) as DebugProtocol.StackTraceResponse;
    const sc = (await c.request('scopes', { frameId: st.body.stackFrames[0].id })) as DebugProtocol.ScopesResponse;
    await c.request('variables', { variablesReference: sc.body.scopes[0].variablesReference });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await c.request('disconnect');
  const sorted = [...times].sort((a, b) => a - b);

  // Continue with every filter armed (none fires on this guest) vs the engine alone.
  const prog = assembleText(source, 'bench-loop.s');
  if (!prog.ok) throw new Error('bench guest does not assemble');
  let engine = Infinity;
  let adapter = Infinity;
  let live = Infinity;
  let instructions = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    const s = runProgram(prog, { maxSteps: 1e9 });
    engine = Math.min(engine, Number(process.hrtime.bigint() - t0) / 1e9);
    instructions = s.instructions;
    adapter = Math.min(adapter, await continueSeconds(program, '0'));
    live = Math.min(live, await continueSeconds(program, 'rip == 0'));
  }
  const round = (x: number, n = 3): number => Number(x.toFixed(n));
  return {
    stepRoundTripMs: { median: round(median(times)), p90: round(sorted[Math.floor(sorted.length * 0.9)]), steps, target: 20 },
    continueAllFiltersArmed: { adapterSeconds: round(adapter), engineSeconds: round(engine), instructions, ratio: round(engine / adapter), target: 0.9, liveCondition: { adapterSeconds: round(live), ratio: round(engine / live) } },
  };
}

/** Seconds of one continue from entry to the end, every filter armed with `condition`. */
async function continueSeconds(program: string, condition: string): Promise<number> {
  const d = await launch(program, true, EVENT_FILTERS.map((f) => f.id), condition);
  const ended = d.event('terminated');
  const t1 = process.hrtime.bigint();
  await d.request('continue', { threadId: 1 });
  await ended;
  const seconds = Number(process.hrtime.bigint() - t1) / 1e9;
  await d.request('disconnect');
  return seconds;
}
