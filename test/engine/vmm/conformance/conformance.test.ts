// The paging conformance suite (test/engine/mmu/conformance.test.ts) as guest programs, in
// native mode and in every hypervisor mode (paravirt aside): the same seeded access.c-style
// cases, each set up and performed by a guest kernel — entries written into its tables,
// CR0.WP/CR4.SMEP/SMAP/EFER.NXE/RFLAGS.AC set, a flush, an optional priming read, then a load,
// store or fetch at CPL 0 or 3 — and checked against the reference model: fault or not, error
// code, CR2, the value read and the paging entries bit for bit afterwards. The MMU audit runs
// along: every AUDIT_EVERY instructions for the whole sample, and after every instruction for
// the first FULL_AUDIT_CASES cases of each format, run once more on their own.
// CONFORMANCE_CASES=N (per format; default 2000) for a deep run.
//
// Every generated case is expressible as a guest program; none is dropped. What had to move
// (placeCase in cases.ts, checked below not to change a single verdict): physical addresses
// (into tagged pages inside guest memory), linear addresses that would land on the kernel's own
// mappings (PML4 slot 0 / the first 16 MiB) and the page offset. access.c dimensions that the
// generators (and the engine) do not have — protection keys, forced emulation — are not here.
import { strict as assert } from 'node:assert';
import { expectedAccess } from '../../mmu/referenceModel';
import { rng } from '../../mmu/testUtil';
import { Case, Generator, GuestCase, generate32Bit, generate4Level, placeCase } from './cases';
import { BatchRun, ModeConfig, checkCase, conformanceConfigs, describeCase, runBatch } from './harness';
import { Format, MAX_CASES_PER_RUN } from './layout';

const CASES_PER_FORMAT = Number(process.env.CONFORMANCE_CASES ?? 2000);
const AUDIT_EVERY = Number(process.env.CONFORMANCE_AUDIT_EVERY ?? 256);
const FULL_AUDIT_CASES = Number(process.env.CONFORMANCE_FULL_AUDIT_CASES ?? 12);
const MAX_REPORTED = 4;

/** The original test's generators and seeds (4-level seed 1, 32-bit seed 2); placement draws from its own stream. */
const FORMATS: readonly { format: Format; name: string; gen: Generator; seed: number }[] = [
  { format: '4level', name: '4-level', gen: generate4Level, seed: 1 },
  { format: '32bit', name: '32-bit', gen: generate32Bit, seed: 2 },
];

interface Batch {
  format: Format;
  maxPhyAddr: number;
  cases: GuestCase[];
}

/** Cases grouped into runs: one MAXPHYADDR per VM (it is a VM option), at most MAX_CASES_PER_RUN per program. */
function batches(): Batch[] {
  const out: Batch[] = [];
  for (const { format, gen, seed } of FORMATS) {
    const r = rng(seed);
    const place = rng(seed + 100);
    const byM = new Map<number, GuestCase[]>();
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const c: Case = gen(r);
      const list = byM.get(c.maxPhyAddr) ?? [];
      list.push(placeCase(c, place));
      byM.set(c.maxPhyAddr, list);
    }
    for (const [maxPhyAddr, list] of [...byM].sort((a, b) => a[0] - b[0])) {
      for (let i = 0; i < list.length; i += MAX_CASES_PER_RUN) out.push({ format, maxPhyAddr, cases: list.slice(i, i + MAX_CASES_PER_RUN) });
    }
  }
  return out;
}

/** A failing case run again on its own, to tell a per-case bug from one that needs history. */
function alone(cfg: ModeConfig, c: GuestCase): string {
  const run = runBatch(cfg, c.format, c.maxPhyAddr, [c]);
  const p = checkCase(c, run.results[0]);
  return p.length ? `reproduces alone: ${p.join('; ')}` : 'passes when run alone (depends on the cases before it)';
}

describe('paging conformance as guest programs, in every memory mode', function () {
  this.timeout(600_000);
  const all = batches();
  const tally: Record<string, string> = {};
  after(() => console.log(`      conformance cases run per mode: ${JSON.stringify(tally)}`));

  it('the sample is the original one, placed without changing a single verdict', () => {
    for (const { format, gen, seed } of FORMATS) {
      const r = rng(seed);
      const place = rng(seed + 100);
      let faults = 0;
      const codes = new Set<number>();
      for (let i = 0; i < CASES_PER_FORMAT; i++) {
        const c = gen(r);
        const g = placeCase(c, place);
        const [a, b] = [expectedAccess(c), expectedAccess(g)];
        assert.equal(b.fault, a.fault, describeCase(g));
        assert.equal(b.errorCode, a.errorCode, describeCase(g));
        assert.equal(b.large, a.large, describeCase(g));
        if (b.fault) {
          faults++;
          codes.add(b.errorCode);
        }
      }
      // Both outcomes, and a spread of error codes, or the suite proves little.
      assert.ok(faults > CASES_PER_FORMAT * 0.2 && faults < CASES_PER_FORMAT * 0.8, `${format}: faults ${faults} of ${CASES_PER_FORMAT}`);
      assert.ok(codes.size >= (format === '4level' ? 12 : 6), `${format}: only error codes ${[...codes].map((x) => x.toString(16))}`);
    }
  });

  for (const cfg of conformanceConfigs()) {
    it(`${cfg.label}: every case agrees with the reference model (fault, error code, CR2, value, A/D bits)`, () => {
      const failures: string[] = [];
      const counts: Record<string, number> = {};
      let failed = 0;
      const virtual = cfg.mode !== 'native';
      const run = (b: Batch, cases: GuestCase[], auditEvery: number): BatchRun => {
        let out: BatchRun;
        try {
          out = runBatch(cfg, b.format, b.maxPhyAddr, cases, virtual ? { audit: true, auditEvery } : {});
        } catch (e) {
          assert.fail(`${cfg.label}, ${b.format} M=${b.maxPhyAddr}: ${e instanceof Error ? e.message : String(e)}`);
        }
        assert.ok(out.summary.exit.reason === 'halted' && out.summary.console === 'ok\n', `${cfg.label}, ${b.format} M=${b.maxPhyAddr}: the kernel did not finish its ${cases.length} cases: ${out.summary.exit.message}`);
        // The guest's own reading of its last entries is guest-physical memory's (no A/D bit parked elsewhere).
        const last = out.results[cases.length - 1];
        assert.deepEqual(out.lastEntries, { pde: last.pde, pte: last.pte }, `${cfg.label}, ${b.format} M=${b.maxPhyAddr}: last case's entries, guest-physical vs as the guest read them`);
        return out;
      };
      const fullyAudited = new Set<Format>();
      for (const b of all) {
        // The first cases of a format once more, with the audit after every instruction (and checked too).
        if (virtual && FULL_AUDIT_CASES > 0 && !fullyAudited.has(b.format)) {
          fullyAudited.add(b.format);
          const head = b.cases.slice(0, FULL_AUDIT_CASES);
          const audited = run(b, head, 1);
          head.forEach((c, i) => {
            const problems = checkCase(c, audited.results[i]);
            if (problems.length && failures.length < MAX_REPORTED) failures.push(`(fully audited run) case ${i}: ${describeCase(c)}\n        ${problems.join('\n        ')}`);
            if (problems.length) failed++;
          });
        }
        const results = run(b, b.cases, AUDIT_EVERY).results;
        b.cases.forEach((c, i) => {
          const problems = checkCase(c, results[i]);
          if (!problems.length) return;
          failed++;
          if (failures.length < MAX_REPORTED) failures.push(`case ${i} of ${b.format} M=${b.maxPhyAddr}: ${describeCase(c)}\n        ${problems.join('\n        ')}\n        ${alone(cfg, c)}`);
        });
        const name = b.format === '4level' ? '4-level' : '32-bit';
        counts[name] = (counts[name] ?? 0) + b.cases.length;
      }
      tally[cfg.label] = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(' + ');
      assert.equal(failed, 0, `${cfg.label}: ${failed} cases disagree with the reference model:\n      ${failures.join('\n      ')}`);
    });
  }
});
