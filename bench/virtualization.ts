// Nested-paging benchmarks (issue 3 item 10), run with
//   npx tsc -p tsconfig.test.json && node out/bench/virtualization.js
// 1. The guest-machine loop (bench/loopProgram.ts) in native and nested mode: the TLB-hit path
//    must stay ≥ 0.9× native (a hit costs the same: the combined entry is in the TLB).
// 2. The MMU-intensive workload (bench/mmuWorkload.ts) in every registered mode: the classic
//    trade-off table — shadow takes many exits, nested takes none of those but walks longer.
import { assembleText } from '../src/engine/isa/assembler';
import { runProgram, startProgram, summarize } from '../src/engine/runner';
import type { RunOptions } from '../src/engine/runner';
import { MODE_DEFINITIONS } from '../src/engine/vmm/modes';
import { NestedMmu } from '../src/engine/vmm/nested/nestedMmu';
import type { MemoryMode } from '../src/engine/vm';
import { benchLoopSource } from './loopProgram';
import { mmuWorkloadSource } from './mmuWorkload';

function assembleOrThrow(src: string, name: string): ReturnType<typeof assembleText> {
  const p = assembleText(src, name);
  if (!p.ok) throw new Error(p.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return p;
}

function loopMips(mode: MemoryMode, iterations: number, largeData: boolean, repeats: number, opts: RunOptions = {}): { mips: number; hitRate: number } {
  const prog = assembleOrThrow(benchLoopSource(iterations, largeData), 'bench-loop.s');
  let best = { mips: 0, hitRate: 0 };
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const s = runProgram(prog, { ...opts, mode, maxSteps: iterations * 8 + 100_000 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!s.exit.ok) throw new Error(`${mode}: ${s.exit.message}`);
    const mips = s.instructions / seconds / 1e6;
    if (mips > best.mips) best = { mips, hitRate: s.tlb.hitRate };
  }
  return best;
}

export interface WorkloadRow {
  config: string;
  instructions: number;
  seconds: number;
  mips: number;
  exits: number;
  exitsByReason: Record<string, number>;
  tlbMisses: number;
  hiddenFaults: number;
  /** Nested only: 2-D walks made and their average cost in memory references. */
  walks?: number;
  refsPerWalk?: number;
}

export function runWorkload(config: string, mode: MemoryMode, rounds: number, opts: RunOptions = {}): WorkloadRow {
  const prog = assembleOrThrow(mmuWorkloadSource(rounds), 'mmu-workload.s');
  const { vm, stats } = startProgram(prog, { mode, ...opts });
  const t0 = process.hrtime.bigint();
  while (!vm.stopped && vm.icount < 50_000_000) vm.run(1_000_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const s = summarize(vm, stats);
  if (!s.exit.ok) throw new Error(`${config}: ${s.exit.message}`);
  const row: WorkloadRow = {
    config, instructions: s.instructions, seconds: Number(seconds.toFixed(3)), mips: Number((s.instructions / seconds / 1e6).toFixed(2)),
    exits: s.exits.total, exitsByReason: s.exits.byReason, tlbMisses: s.tlb.misses, hiddenFaults: s.faults.hiddenFaults,
  };
  const port = vm.mmus[0];
  if (port instanceof NestedMmu) {
    const t = port.vmm.translator;
    row.walks = t.walks;
    row.refsPerWalk = Number((t.walkReferences / Math.max(1, t.walks)).toFixed(2));
  }
  return row;
}

/** The trade-off table as Markdown (modes missing from the registry are left out). */
export function workloadTable(rows: WorkloadRow[]): string {
  const lines = [
    '| configuration | instructions | MIPS | VM exits | top exit reasons | TLB misses | 2-D walks × refs |',
    '|---|---:|---:|---:|---|---:|---|',
  ];
  for (const r of rows) {
    const top = Object.entries(r.exitsByReason).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k}: ${n}`).join(', ');
    lines.push(`| ${r.config} | ${r.instructions} | ${r.mips} | ${r.exits} | ${top || '—'} | ${r.tlbMisses} | ${r.walks !== undefined ? `${r.walks} × ${r.refsPerWalk}` : '—'} |`);
  }
  return lines.join('\n');
}

// Run as a script only (not when bench/main.ts, bundled into dist/bench.js, imports it: there
// `require.main === module` would hold for the bundle).
if (/virtualization\.js$/.test(process.argv[1] ?? '')) {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 3_000_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2_000);
  const loop: Record<string, number | string>[] = [];
  const figures: { label: string; large: boolean; opts: RunOptions }[] = [
    { label: 'loop, 4 KiB pages, 4 KiB EPT', large: false, opts: {} },
    { label: 'loop, 2 MiB guest data page, 2 MiB EPT pages', large: true, opts: { modeOptions: { nested: { eptPageSize: '2m' } } } },
    { label: 'loop, 2 MiB guest data page, 4 KiB EPT (splintered)', large: true, opts: {} },
  ];
  for (const f of figures) {
    // Interleaved, best of 5: the host is shared, so alternate the two to see the same load.
    let native = { mips: 0, hitRate: 0 };
    let nested = { mips: 0, hitRate: 0 };
    for (let i = 0; i < 5; i++) {
      const a = loopMips('native', iterations, f.large, 1, {});
      const b = loopMips('nested', iterations, f.large, 1, f.opts);
      if (a.mips > native.mips) native = a;
      if (b.mips > nested.mips) nested = b;
    }
    loop.push({
      figure: f.label, nativeMips: Number(native.mips.toFixed(2)), nestedMips: Number(nested.mips.toFixed(2)),
      ratio: Number((nested.mips / native.mips).toFixed(3)), nativeTlbHitRate: Number(native.hitRate.toFixed(5)), nestedTlbHitRate: Number(nested.hitRate.toFixed(5)),
    });
  }
  const rows: WorkloadRow[] = [runWorkload('native', 'native', rounds)];
  if (MODE_DEFINITIONS.shadow) rows.push(runWorkload('shadow', 'shadow', rounds));
  rows.push(runWorkload('nested (4 KiB EPT)', 'nested', rounds));
  rows.push(runWorkload('nested, 2 MiB EPT pages', 'nested', rounds, { modeOptions: { nested: { eptPageSize: '2m' } } }));
  rows.push(runWorkload('nested, walk caches', 'nested', rounds, { modeOptions: { nested: { walkCaches: true } } }));
  process.stdout.write(JSON.stringify({ node: process.version, loop, workload: rows }, null, 2) + '\n\n' + workloadTable(rows) + '\n');
}
