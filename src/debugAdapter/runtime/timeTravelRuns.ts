// The re-runs behind stepBack and reverseContinue, over a Timeline: where to go back to is found
// by re-running a window forward from a snapshot (single-stepping to trace lines and call
// depth, or at full speed with the breakpoints armed to list the stops), and the goal is then
// reached by restoring that snapshot and running forward to it. Windows widen snapshot by
// snapshot towards the start until a goal is found.
import { decode } from '../../engine/isa/encoding';
import { Op } from '../../engine/isa/opcodes';
import type { Vcpu } from '../../engine/cpu/cpu';
import type { DebugVm, Target } from './target';
import { SNAPSHOT_EVERY } from './timeTravel';
import type { TimePoint, Timeline } from './timeTravel';

/** What the runtime lends the re-runs. */
export interface TravelHost<X> {
  readonly target: Target;
  readonly timeline: Timeline<X>;
  /** After a restore: the runtime's own state back (X), breakpoints and watches reinstalled. */
  afterRestore(p: TimePoint<X>): void;
  /** Line key of a vCPU's rip (undefined outside the program's source). */
  lineKey(dvm: DebugVm, cpu: Vcpu): string | undefined;
}

/** One position of a traced window: the state before the instruction at `icount`. */
interface Sample {
  icount: number;
  cpuIcount: number;
  line: string | undefined;
  depth: number;
  /** Depth change of the instruction at this position (a call +1, a return -1). */
  after: number;
}

/** A stop found while re-running a window with the breakpoints armed. */
export interface FoundStop<S> {
  icount: number;
  stop: S;
  /** A code breakpoint: the stop is before the instruction (re-fetched to stop exactly as forward). */
  codeBreakpoint: boolean;
}

/**
 * Runs the target forward to `goal` (not past it). `onPause` handles each pause: a code
 * breakpoint or an armed event; it must leave the vCPUs ready to go on.
 */
export function runTo(target: Target, goal: number, onPause: () => void): void {
  while (target.icount < goal && !target.stopped) {
    const r = target.run(goal - target.icount);
    if (r.outcome === 'pause-requested') onPause();
    else if (r.executed === 0) break;
  }
}

/** Restores the point and runs to goal: the state that was there. */
export function travelTo<X>(host: TravelHost<X>, point: TimePoint<X>, goal: number, onPause: () => void): void {
  host.timeline.restore(point);
  host.afterRestore(point);
  runTo(host.target, goal, onPause);
}

/**
 * The goal of one step back on `cpu`: the previous instruction it retired (by instruction) or
 * the start of the previous source line at the same or a shallower call depth (by line: calls
 * and interrupt handlers in between are stepped over backwards, as `next` does forwards).
 * Undefined when nothing before `now` qualifies in any window.
 */
export function stepBackGoal<X>(host: TravelHost<X>, dvm: DebugVm, cpu: Vcpu, instruction: boolean, onPause: () => void): number | undefined {
  const now = host.target.icount;
  const nowCpu = cpu.icount;
  const nowLine = host.lineKey(dvm, cpu);
  let point = nearBefore(host, now - 1, onPause);
  while (point) {
    const samples = trace(host, point, dvm, cpu, now, onPause);
    const goal = instruction ? instructionGoal(samples, nowCpu) : lineGoal(samples, nowLine);
    if (goal !== undefined) return goal;
    point = point.icount > 0 ? nearBefore(host, point.icount - 1, onPause) : undefined;
  }
  return undefined;
}

/**
 * The latest point at or before `icount`, filled in when it is more than SNAPSHOT_EVERY back: a
 * continue takes few snapshots (they cost it speed), so the window a step back single-steps is
 * bounded here instead, by a full-speed re-run and a snapshot SNAPSHOT_EVERY / 2 before icount.
 */
function nearBefore<X>(host: TravelHost<X>, icount: number, onPause: () => void): TimePoint<X> | undefined {
  const p = host.timeline.before(icount);
  if (!p || icount - p.icount <= SNAPSHOT_EVERY) return p;
  host.timeline.restore(p);
  host.afterRestore(p);
  runTo(host.target, icount - SNAPSHOT_EVERY / 2, onPause);
  if (host.target.icount <= p.icount || host.target.icount > icount) return p;
  host.timeline.insert(host.target.icount, p.extra);
  // The timeline may have thinned another point (or this one) away: ask it again.
  return host.timeline.before(icount) ?? p;
}

function instructionGoal(samples: Sample[], nowCpu: number): number | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i].cpuIcount === nowCpu - 1) return samples[i].icount;
  return undefined;
}

function lineGoal(samples: Sample[], nowLine: string | undefined): number | undefined {
  if (samples.length === 0) return undefined;
  const end = samples[samples.length - 1];
  // Depth relative to now: the last sample was traced just before now, one instruction deep or shallow.
  const depthNow = end.depth + end.after;
  let i = samples.length - 1;
  // Back over the rest of the current line (and anything deeper).
  while (i >= 0 && (samples[i].depth > depthNow || samples[i].line === nowLine || samples[i].line === undefined)) i--;
  if (i < 0) return undefined;
  const line = samples[i].line;
  const depth = samples[i].depth;
  // Back to where that line began at that depth (deeper samples are its calls).
  let start = i;
  for (let j = i - 1; j >= 0; j--) {
    if (samples[j].depth > depth) continue;
    if (samples[j].depth < depth || samples[j].line !== line) break;
    start = j;
  }
  // A window that starts inside the line cannot tell where the line began: widen it.
  return start === 0 && samples[0].icount !== 0 ? undefined : samples[start].icount;
}

/** Single-steps the window [point, now), recording each position of `cpu`. */
function trace<X>(host: TravelHost<X>, point: TimePoint<X>, dvm: DebugVm, cpu: Vcpu, now: number, onPause: () => void): Sample[] {
  host.timeline.restore(point);
  host.afterRestore(point);
  const target = host.target;
  const out: Sample[] = [];
  let depth = 0;
  let trapped = false;
  const offs = [dvm.vm.bus.on('exception', () => (trapped = true)), dvm.vm.bus.on('interrupt', () => (trapped = true))];
  const lines = new Map<bigint, string | undefined>();
  let linesCr3 = -1;
  try {
    while (target.icount < now && !target.stopped) {
      const before = cpu.icount;
      const cr3 = cpu.cr3;
      if (cr3 !== linesCr3) {
        lines.clear();
        linesCr3 = cr3;
      }
      const rip = cpu.ripValue;
      if (!lines.has(rip)) lines.set(rip, host.lineKey(dvm, cpu));
      const op = opAt(dvm, cpu);
      const sample = { icount: target.icount, cpuIcount: before, line: lines.get(rip), depth, after: 0 };
      trapped = false;
      const r = target.run(1);
      if (r.outcome === 'pause-requested') onPause();
      if (target.icount === sample.icount) {
        if (r.outcome === 'pause-requested') continue;
        break;
      }
      if (cpu.icount === before && !trapped) continue;
      out.push(sample);
      // Calls and deliveries go one deeper, returns one shallower: what `next` steps over.
      const delta = trapped || op === Op.CALL || op === Op.INT || op === Op.INT3 ? 1 : op === Op.RET || op === Op.IRETQ ? -1 : 0;
      sample.after = delta;
      depth += delta;
    }
  } finally {
    offs.forEach((d) => d());
  }
  return out;
}

function opAt(dvm: DebugVm, cpu: Vcpu): number | undefined {
  const bytes = dvm.space.readVirtualBytes(cpu, cpu.ripValue, 12) ?? dvm.space.readVirtualBytes(cpu, cpu.ripValue, 2);
  if (!bytes) return undefined;
  const d = decode(bytes, 0);
  return typeof d === 'string' ? undefined : d.op;
}

/**
 * The last stop-worthy point before `now`: re-runs windows at full speed with the breakpoints
 * and filters armed (`found` turns a pause into a stop, or null for a breakpoint that does not
 * stop, after making the vCPUs ready to go on), latest window first.
 */
export function previousStop<X, S>(host: TravelHost<X>, found: () => S | null, codeBreakpoint: (s: S) => boolean): { point: TimePoint<X>; hit: FoundStop<S> } | undefined {
  const now = host.target.icount;
  let point = host.timeline.before(now - 1);
  while (point) {
    host.timeline.restore(point);
    host.afterRestore(point);
    let last: FoundStop<S> | undefined;
    runTo(host.target, now, () => {
      const s = found();
      if (s !== null && host.target.icount < now) last = { icount: host.target.icount, stop: s, codeBreakpoint: codeBreakpoint(s) };
    });
    if (last) return { point, hit: last };
    point = host.timeline.previous(point);
  }
  return undefined;
}
