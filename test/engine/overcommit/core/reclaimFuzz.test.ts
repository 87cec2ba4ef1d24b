// The differential reclaim fuzz (see reclaimFuzz.ts): what proves the p2m mappers. Swapping a
// page out and sharing it are invisible to the guest by design — so under any schedule of them,
// the guest's console and exit status must be exactly native's, and the audit must hold after
// every step. Fixed seeds; each row is one (example, variant, mode, seed). sloppy-tlb.s, which
// depends on a stale TLB entry, may also see the fresh mapping (permittedConsoles says why).
import { strict as assert } from 'node:assert';
import { permittedConsoles, runNative, runReclaimed } from './reclaimFuzz';
import { assembleExample } from '../../../support/runAsm';
import type { FuzzOptions } from './reclaimFuzz';
import type { RunSummary } from '../../../../src/engine/runner';

const EXAMPLES = ['hello.s', 'demand-paging.s', 'two-processes.s', 'map-unmap.s', 'sloppy-tlb.s'];
const VARIANTS: Record<string, bigint>[] = [{ PAGING: 64n }, { PAGING: 32n }];
const MODES: FuzzOptions['mode'][] = ['shadow', 'nested'];
const SEEDS = [1, 7, 42];
const MAX_STEPS = 3_000_000;

const natives = new Map<string, RunSummary>();

describe('overcommit core: differential reclaim fuzz (swap + share under the guest, audit on)', function () {
  this.timeout(300_000);
  for (const file of EXAMPLES) {
    for (const defines of VARIANTS) {
      const label = `${file} PAGING=${defines.PAGING}`;
      for (const mode of MODES) {
        for (const seed of SEEDS) {
          it(`${label} under ${mode}, seed ${seed}: console and exit equal native's`, () => {
            const program = assembleExample(file, defines);
            let native = natives.get(label);
            if (!native) natives.set(label, (native = runNative(program, MAX_STEPS)));
            const r = runReclaimed(program, { mode, seed, every: 97 + seed, swapsPerStep: 2, sharesPerStep: 2, samplesPerStep: 1, maxSteps: MAX_STEPS });
            assert.deepEqual(r.violations, [], `audit: ${r.violations.join('\n')}`);
            assert.equal(r.summary.exit.message, native.exit.message);
            assert.equal(r.summary.exit.reason, native.exit.reason);
            assert.equal(r.summary.exit.status, native.exit.status);
            const permitted = permittedConsoles(file, native.console);
            assert.ok(permitted.includes(r.summary.console), `console:\n${r.summary.console}\nnative:\n${native.console}`);
            // The fuzz did something: pages went out and came back, pages were shared and written.
            assert.ok(r.swapOuts > 0 && r.swapIns > 0, `swaps out ${r.swapOuts}, in ${r.swapIns}`);
            assert.ok(r.shares > 0, `shares ${r.shares}`);
          });
        }
      }
    }
  }

  // Nested with 2 MiB EPT pages and EPT A/D: revocation must split the large page first, and
  // guest page-table walks count as writes (A/D), so shared guest tables break on the walk.
  for (const file of ['demand-paging.s', 'two-processes.s', 'map-unmap.s']) {
    it(`${file} under nested with 2 MiB EPT pages and EPT A/D, seed 5: console and exit equal native's`, () => {
      const program = assembleExample(file, { PAGING: 64n });
      const native = runNative(program, MAX_STEPS);
      const r = runReclaimed(program, {
        mode: 'nested', seed: 5, every: 101, swapsPerStep: 2, sharesPerStep: 2, samplesPerStep: 1, maxSteps: MAX_STEPS,
        modeOptions: { nested: { eptPageSize: '2m', accessedDirty: true } },
      });
      assert.deepEqual(r.violations, [], `audit: ${r.violations.join('\n')}`);
      assert.equal(r.summary.exit.message, native.exit.message);
      assert.equal(r.summary.console, native.console);
      assert.ok(r.swapOuts > 0 && r.swapIns > 0 && r.shares > 0);
    });
  }
});
