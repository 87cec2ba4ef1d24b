// Experiment (b), the shape of Waldspurger 2002 Fig. 7: τ = 0 splits evenly, τ = 0.75 moves
// memory from the idle VM to the active one.
import { strict as assert } from 'node:assert';
import { idleTaxExperiment } from '../../../../src/engine/memory/overcommit/experiments/idleTax';
import { loadOvercommitExample } from './loader';

describe('experiment (b): the idle memory tax', () => {
  const t = idleTaxExperiment(loadOvercommitExample, 'small');
  const [even, taxed] = t.rows as Record<string, number>[];

  it('runs audit-clean; the working-set estimates tell idle from active', () => {
    assert.deepEqual(t.auditViolations, []);
    for (const r of [even, taxed]) {
      assert.ok(r.idleWs < 0.3, `idle f ${r.idleWs}`);
      assert.ok(r.activeWs > 0.5, `active f ${r.activeWs}`);
    }
  });

  it('τ = 0: equal targets (an even split of the budget)', () => {
    assert.ok(Math.abs(even.idleTarget - even.activeTarget) <= 2, `targets ${even.idleTarget} / ${even.activeTarget}`);
  });

  it('τ = 0.75: memory moves to the active VM', () => {
    assert.ok(taxed.activeTarget > taxed.idleTarget + 20, `targets ${taxed.idleTarget} / ${taxed.activeTarget}`);
    assert.ok(taxed.activeAlloc > even.activeAlloc, `active holds ${even.activeAlloc} → ${taxed.activeAlloc}`);
    assert.ok(taxed.idleAlloc < even.idleAlloc, `idle holds ${even.idleAlloc} → ${taxed.idleAlloc}`);
    assert.ok(taxed.activeThroughput >= even.activeThroughput, `active throughput ${even.activeThroughput} → ${taxed.activeThroughput}`);
  });
});
