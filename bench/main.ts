// npm run bench: guest instructions per second with paging on (JSON on stdout), native and
// virtualized, then the MMU-intensive trade-off table of every mode (bench/virtualization.ts).
// Targets: ≥ 60 M instructions/s native on a 2-core machine (issue 2); shadow and nested
// ≥ 0.9× native on the loop (issue 3).
import { assembleText } from '../src/engine/isa/assembler';
import { runProgram } from '../src/engine/runner';
import { benchLoopSource } from './loopProgram';
import type { MemoryMode } from '../src/engine/vm';
import type { RunOptions } from '../src/engine/runner';
import { MODE_DEFINITIONS } from '../src/engine/vmm/modes';
import { runWorkload, workloadTable } from './virtualization';
import type { WorkloadRow } from './virtualization';
import { benchAdapter } from './adapter';
import { benchViews } from './views';
import { benchSharing } from './sharing';
import { benchOvercommit, overcommitChild } from './overcommit';
import { benchExtensionHost } from './extensionHost/run';

interface Figure {
  name: string;
  instructions: number;
  seconds: number;
  mips: number;
  tlbHitRate: number;
  tlbMisses: number;
}

function measure(name: string, iterations: number, largeData: boolean, repeats: number, mode: MemoryMode = 'native', opts: RunOptions = {}): Figure {
  const prog = assembleText(benchLoopSource(iterations, largeData), 'bench-loop.s');
  if (!prog.ok) throw new Error(prog.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  let best: Figure | undefined;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const s = runProgram(prog, { ...opts, maxSteps: iterations * 8 + 100_000, mode });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (!s.exit.ok) throw new Error(`bench guest did not halt: ${s.exit.message}`);
    const f = { name, instructions: s.instructions, seconds, mips: s.instructions / seconds / 1e6, tlbHitRate: s.tlb.hitRate, tlbMisses: s.tlb.misses };
    if (!best || f.mips > best.mips) best = f;
  }
  return best!;
}

// `node dist/bench.js [section …]` runs only the sections named (cpu, adapter, views, sharing,
// overcommit, exthost); none named: all of them but exthost. bench/overcommit.ts re-runs this file as its memory
// probe (--overcommit-child): then nothing else runs.
const isChild = process.argv.includes('--overcommit-child');
const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const wants = (section: string): boolean => !isChild && (named.length === 0 || named.includes(section));
// `exthost` (bench/extensionHost/: the views' refresh end to end in code-server's extension host)
// runs only when named: it needs code-server (node scripts/ui/setup.mjs --no-browser) and Chromium.
const wantsNamed = (section: string): boolean => !isChild && named.includes(section);

function cpuFigures(): object {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 3_000_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 1_000);
  const repeats = Number(process.env.BENCH_REPEATS ?? 5);
  const specs: { name: string; large: boolean; mode: MemoryMode; opts?: RunOptions }[] = [
    { name: 'native-4level-4k-pages', large: false, mode: 'native' },
    { name: 'native-4level-2m-data-page', large: true, mode: 'native' },
    // Shadow paging: the TLB-hit path is the hardware Mmu's own (target ≥ 0.9× native).
    { name: 'shadow-4level-4k-pages', large: false, mode: 'shadow' },
    // Nested paging: hits are native; the 0.02% of accesses that miss pay the 2-D walk (target ≥ 0.9×).
    { name: 'nested-4level-4k-pages', large: false, mode: 'nested' },
    { name: 'nested-4level-2m-data-page-2m-ept', large: true, mode: 'nested', opts: { modeOptions: { nested: { eptPageSize: '2m' } } } },
  ];
  // Round-robin, best of `repeats` each: the host is shared, so every figure sees the same load.
  const best: (Figure | undefined)[] = specs.map(() => undefined);
  for (let r = 0; r < repeats; r++) {
    specs.forEach((sp, i) => {
      const f = measure(sp.name, iterations, sp.large, 1, sp.mode, sp.opts);
      if (!best[i] || f.mips > best[i]!.mips) best[i] = f;
    });
  }
  const figures = best.map((f) => f!);
  // The MMU-intensive workload in every registered mode: exits vs walk length.
  const rows: WorkloadRow[] = [runWorkload('native', 'native', rounds)];
  if (MODE_DEFINITIONS.shadow) rows.push(runWorkload('shadow', 'shadow', rounds));
  if (MODE_DEFINITIONS.nested) {
    rows.push(runWorkload('nested (4 KiB EPT)', 'nested', rounds));
    rows.push(runWorkload('nested, 2 MiB EPT pages', 'nested', rounds, { modeOptions: { nested: { eptPageSize: '2m' } } }));
    rows.push(runWorkload('nested, walk caches', 'nested', rounds, { modeOptions: { nested: { walkCaches: true } } }));
  }
  const ratio = (a: Figure, b: Figure): number => Number((a.mips / b.mips).toFixed(3));
  const result = {
    benchmark: `guest instructions per second, paging on (best of ${repeats}, interleaved)`,
    target_mips: 60,
    node: process.version,
    shadowVsNative: ratio(figures[2], figures[0]),
    nestedVsNative: ratio(figures[3], figures[0]),
    nested2mVsNative: ratio(figures[4], figures[1]),
    figures: figures.map((f) => ({ ...f, mips: Number(f.mips.toFixed(2)), seconds: Number(f.seconds.toFixed(3)), tlbHitRate: Number(f.tlbHitRate.toFixed(5)) })),
    mmuWorkload: { rounds, rows, table: workloadTable(rows).split('\n') },
  };
  return result;
}
// The debug adapter's overhead (bench/adapter.ts): step round trip, continue with filters armed;
// then the views' refresh at a stop over 100,000 mapped pages (bench/views.ts; p95 ≤ 50 ms).
// The page-sharing scanner's hash and scan (bench/sharing.ts; target ≥ 1 GB/s); 16 VMs of
// 1 GiB on 8 GiB (bench/overcommit.ts; its table goes to stderr, the figures into the JSON).
if (!overcommitChild(process.argv)) {
  void (async () => {
    const result = wants('cpu') ? cpuFigures() : {};
    const adapter = wants('adapter') ? await benchAdapter() : undefined;
    const views = wants('views') ? [await benchViews('native'), await benchViews('shadow'), await benchViews('nested')] : undefined;
    const sharing = wants('sharing') ? await benchSharing() : undefined;
    const overcommit = wants('overcommit') ? benchOvercommit() : undefined;
    if (overcommit) process.stderr.write(overcommit.scaleTable.join('\n') + '\n');
    const exthost = wantsNamed('exthost') ? benchExtensionHost(process.argv.slice(2).filter((a) => a.startsWith('--'))) : undefined;
    process.stdout.write(JSON.stringify({ ...result, adapter, views, sharing, overcommit, exthost }, null, 2) + '\n');
  })();
}
