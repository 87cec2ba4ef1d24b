// Issue 6 item 8, the scale benchmark: "16 VMs of 1 GiB on 8 GiB of machine memory run; the
// simulator's memory stays proportional to touched pages; the sharing scanner hashes ≥ 1 GB/s of
// guest memory." Three parts:
//   1. scale  — 16 × 1 GiB VMs (nested, shadow) on an 8 GiB machine, each running the guest of
//               bench/manyPagesGuest.ts over N pages; the largest N touches more than machine
//               memory in all (real overcommit: the memory scheduler must reclaim). Wall time,
//               guest instructions/s over the machine, swap-outs/ins, sharing, rebalances, state.
//   2. memory — the same machine at a few N, each in a child process (node --expose-gc) that
//               measures RSS and heapUsed+arrayBuffers after a forced GC with the machine alive;
//               a least-squares line gives bytes per touched page (slope) and the fixed cost
//               (intercept, divided per VM).
//   3. sharing throughput over the 16-VM machine — bench/sharing.ts (benchSharing's manyVms).
// Run alone: npx tsc -p tsconfig.test.json && node scripts/build.mjs && node dist/bench.js overcommit
// Knobs: OC_BENCH_PAGES (scale N per VM, default 147456: 9 GiB touched on 8 GiB),
//        OC_BENCH_MODES (default nested,shadow), OC_BENCH_MEM_PAGES (default 1024,4096,16384),
//        OC_BENCH_PARTS (default scale,memory).
import { spawnSync } from 'node:child_process';
import { assembleText } from '../src/engine/isa/assembler';
import { startMachine } from '../src/engine/machineRunner';
import type { MachineInput } from '../src/engine/machineRunner';
import { summarize } from '../src/engine/runner';
import type { VirtualMode } from '../src/engine/vmm/virtualVm';
import { PAGE_SIZE } from '../src/engine/memory/frame';
import { manyPagesGuestSource, touchedGuestPages } from './manyPagesGuest';

const GiB = 2 ** 30;

export interface ScaleSpec {
  vms: number;
  vmBytes: number;
  machineBytes: number;
  /** Data pages each VM touches (bench/manyPagesGuest.ts). */
  pages: number;
  mode: VirtualMode;
  quantum?: number;
}

export interface ScaleFigure {
  mode: VirtualMode;
  vms: number;
  vmGiB: number;
  machineGiB: number;
  pagesPerVm: number;
  /** Guest pages touched over all VMs, and that as a fraction of machine memory. */
  touchedPages: number;
  touchedVsMachine: number;
  allExited0: boolean;
  exits: string[];
  wallSeconds: number;
  instructions: number;
  /** Guest instructions per wall-clock second over the whole machine. */
  mips: number;
  simulatedSeconds: number;
  swapOuts: number;
  swapIns: number;
  sharedInsteadOfSwap: number;
  emergencies: number;
  sharedFrames: number;
  pagesSharing: number;
  zeroPages: number;
  cowBreaks: number;
  rebalances: number;
  finalState: string;
  freePages: number;
  totalPages: number;
  /** Machine frames the simulator holds bytes for (written at least once) and swap-file pages stored. */
  materializedFrames: number;
  storedSwapPages: number;
}

export interface MemoryFigure extends ScaleFigure {
  rssBytes: number;
  heapPlusBuffersBytes: number;
}

function machineInput(spec: ScaleSpec): MachineInput {
  return {
    memoryBytes: spec.machineBytes,
    quantum: spec.quantum ?? 10_000,
    // The guest retires ~19 instructions per page; a guest that has not halted by 100 is broken.
    maxSteps: 100 * spec.pages * spec.vms + 10_000_000,
    vms: Array.from({ length: spec.vms }, (_, i) => {
      const prog = assembleText(manyPagesGuestSource({ pages: spec.pages, tag: i + 1 }), `bench-overcommit-${i}.s`);
      if (!prog.ok) throw new Error(prog.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
      return { name: `vm${i + 1}`, mode: spec.mode, program: prog, memoryBytes: spec.vmBytes };
    }),
  };
}

/** Runs the machine to the end; `measure` is called with the machine still alive (memory figures). */
export function runScale<T = undefined>(spec: ScaleSpec, measure?: () => T): { figure: ScaleFigure; measured: T | undefined } {
  const input = machineInput(spec);
  const t0 = process.hrtime.bigint();
  const { machine, vms } = startMachine(input);
  let engineError: string | undefined;
  try {
    while (!machine.stopped && machine.icount < input.maxSteps) machine.run(1_000_000);
  } catch (e) {
    engineError = `engine error: ${e instanceof Error ? e.message : String(e)}`;
  }
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const measured = measure?.();
  const summaries = vms.map(({ vm, stats }) => summarize(vm, stats, engineError));
  const oc = machine.overcommit?.snapshot();
  const sum = (f: (v: NonNullable<typeof oc>['vms'][number]) => number): number => (oc ? oc.vms.reduce((n, v) => n + f(v), 0) : 0);
  let storedSwap = 0;
  for (const { vm } of vms) {
    const p = machine.partsOf(vm);
    if (p) storedSwap += p.p2m.swapFile.used;
  }
  const touched = spec.vms * touchedGuestPages(spec);
  const figure: ScaleFigure = {
    mode: spec.mode,
    vms: spec.vms,
    vmGiB: spec.vmBytes / GiB,
    machineGiB: spec.machineBytes / GiB,
    pagesPerVm: spec.pages,
    touchedPages: touched,
    touchedVsMachine: Number((touched / (spec.machineBytes / PAGE_SIZE)).toFixed(3)),
    allExited0: summaries.every((s) => s.exit.ok && s.exit.status === 0),
    exits: [...new Set(summaries.map((s) => s.exit.message))],
    wallSeconds: Number(wallSeconds.toFixed(2)),
    instructions: machine.icount,
    mips: Number((machine.icount / wallSeconds / 1e6).toFixed(2)),
    simulatedSeconds: Number(machine.clock.seconds().toFixed(1)),
    swapOuts: sum((v) => v.counters.swapOuts),
    swapIns: sum((v) => v.counters.swapIns),
    sharedInsteadOfSwap: oc?.sharing?.offeredShared ?? 0,
    emergencies: machine.overcommit?.emergencies ?? 0,
    sharedFrames: oc?.sharing?.pagesShared ?? 0,
    pagesSharing: oc?.sharing?.pagesSharing ?? 0,
    zeroPages: oc?.sharing?.zeroPages ?? 0,
    cowBreaks: sum((v) => v.counters.cowBreaks),
    rebalances: oc?.rebalances ?? 0,
    finalState: oc?.state ?? 'no memory scheduler',
    freePages: machine.memory.frames.free,
    totalPages: machine.memory.frames.total,
    materializedFrames: machine.memory.bytes.touchedFrames,
    storedSwapPages: storedSwap,
  };
  return { figure, measured };
}

export function scaleSpec(mode: VirtualMode, pages: number): ScaleSpec {
  return { vms: 16, vmBytes: GiB, machineBytes: 8 * GiB, pages, mode };
}

export function scaleTable(rows: ScaleFigure[]): string {
  const head = ['mode', 'N/VM', 'touched', 'exit 0', 'wall s', 'MIPS', 'sim s', 'swap out', 'swap in', 'shared', 'sharing', 'zero', 'rebal', 'state'];
  const body = rows.map((r) => [
    r.mode, String(r.pagesPerVm), `${(r.touchedVsMachine * 100).toFixed(0)}%`, r.allExited0 ? 'yes' : 'NO', r.wallSeconds.toFixed(1), r.mips.toFixed(2),
    r.simulatedSeconds.toFixed(0), String(r.swapOuts), String(r.swapIns), String(r.sharedFrames), String(r.pagesSharing), String(r.zeroPages), String(r.rebalances), r.finalState,
  ]);
  return formatTable(head, body);
}

function formatTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- memory ∝ touched pages

/** In a child process started with --expose-gc: run, then GC and measure with the machine alive. */
function childMeasure(spec: ScaleSpec): MemoryFigure {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the memory figures need node --expose-gc');
  const { figure, measured } = runScale(spec, () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { rssBytes: m.rss, heapPlusBuffersBytes: m.heapUsed + m.arrayBuffers };
  });
  return { ...figure, ...measured! };
}

function measureInChild(spec: ScaleSpec): MemoryFigure {
  const r = spawnSync(process.execPath, ['--expose-gc', process.argv[1], '--overcommit-child', JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`memory child failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as MemoryFigure;
}

/** Least squares y = a + b·x. */
function fit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

export interface MemoryScaling {
  mode: VirtualMode;
  points: { pagesPerVm: number; touchedPages: number; materializedFrames: number; rssMiB: number; heapPlusBuffersMiB: number }[];
  /**
   * Bytes per touched guest page (slope over touched pages), per written page (slope over the
   * frames holding bytes: the guest writes half its data pages), the fixed cost (intercept: the
   * process, the 8 GiB machine's frame table, every VM's p2m) and that divided by the VMs.
   */
  rss: MemoryLine;
  heapPlusBuffers: MemoryLine;
}

export interface MemoryLine {
  bytesPerTouchedPage: number;
  bytesPerWrittenPage: number;
  fixedBytes: number;
  fixedBytesPerVm: number;
}

export function memoryScaling(mode: VirtualMode, pageCounts: number[]): MemoryScaling {
  const rows = pageCounts.map((n) => measureInChild(scaleSpec(mode, n)));
  const xs = rows.map((r) => r.touchedPages);
  const line = (ys: number[]): MemoryLine => {
    const f = fit(xs, ys);
    const w = fit(rows.map((r) => r.materializedFrames), ys);
    return { bytesPerTouchedPage: Math.round(f.slope), bytesPerWrittenPage: Math.round(w.slope), fixedBytes: Math.round(f.intercept), fixedBytesPerVm: Math.round(f.intercept / rows[0].vms) };
  };
  const MiB = 2 ** 20;
  return {
    mode,
    points: rows.map((r) => ({
      pagesPerVm: r.pagesPerVm, touchedPages: r.touchedPages, materializedFrames: r.materializedFrames,
      rssMiB: Number((r.rssBytes / MiB).toFixed(1)), heapPlusBuffersMiB: Number((r.heapPlusBuffersBytes / MiB).toFixed(1)),
    })),
    rss: line(rows.map((r) => r.rssBytes)),
    heapPlusBuffers: line(rows.map((r) => r.heapPlusBuffersBytes)),
  };
}

// ---------------------------------------------------------------- all of it

export interface OvercommitFigures {
  benchmark: string;
  scale: ScaleFigure[];
  scaleTable: string[];
  memory: MemoryScaling[];
}

export function benchOvercommit(): OvercommitFigures {
  const modes = (process.env.OC_BENCH_MODES ?? 'nested,shadow').split(',').filter(Boolean) as VirtualMode[];
  const pages = Number(process.env.OC_BENCH_PAGES ?? 147_456);
  const memPages = (process.env.OC_BENCH_MEM_PAGES ?? '1024,4096,16384').split(',').map(Number);
  const parts = (process.env.OC_BENCH_PARTS ?? 'scale,memory').split(',');
  const scale = parts.includes('scale') ? modes.map((m) => runScale(scaleSpec(m, pages)).figure) : [];
  const memory = parts.includes('memory') ? modes.map((m) => memoryScaling(m, memPages)) : [];
  return {
    benchmark: '16 VMs × 1 GiB on 8 GiB of machine memory (bench/manyPagesGuest.ts), one run each',
    scale,
    scaleTable: scaleTable(scale).split('\n'),
    memory,
  };
}

/** The child side of measureInChild: `node --expose-gc dist/bench.js --overcommit-child SPEC`. */
export function overcommitChild(argv: string[]): boolean {
  const i = argv.indexOf('--overcommit-child');
  if (i < 0) return false;
  const spec = JSON.parse(argv[i + 1]) as ScaleSpec;
  process.stdout.write(JSON.stringify(childMeasure(spec)) + '\n');
  return true;
}
