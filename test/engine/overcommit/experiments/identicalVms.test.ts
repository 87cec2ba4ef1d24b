// Experiment (a), the shape of Waldspurger 2002 Fig. 4: sharing among identical VMs grows with N.
import { strict as assert } from 'node:assert';
import { identicalVmsExperiment } from '../../../../src/engine/memory/overcommit/experiments/identicalVms';
import { loadOvercommitExample } from './loader';

describe('experiment (a): identical VMs share more as N grows', () => {
  const t = identicalVmsExperiment(loadOvercommitExample, 'small');
  const rows = t.rows as Record<string, number>[];

  it('one row per N, every run audit-clean', () => {
    assert.deepEqual(rows.map((r) => r.vms), [1, 2, 4]);
    assert.deepEqual(t.auditViolations, []);
  });

  it('one VM alone saves a little, mostly zero pages', () => {
    const one = rows[0];
    assert.ok(one.savedPct > 0 && one.savedPct < 25, `saved ${one.savedPct} %`);
    assert.ok(one.zero >= one.saved / 2, `zero ${one.zero} of saved ${one.saved}`);
  });

  it('a jump at the second VM, then saved % rises with N toward the identical fraction', () => {
    assert.ok(rows[1].savedPct > 2 * rows[0].savedPct, `1 → 2 VMs: ${rows[0].savedPct} → ${rows[1].savedPct}`);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].savedPct > rows[i - 1].savedPct, `saved % must grow: ${rows.map((r) => r.savedPct)}`);
    // Ceiling: what is identical in every VM (~56 % of a VM here); Fig. 4 approaches ~60 %.
    assert.ok(rows[rows.length - 1].savedPct > 40 && rows[rows.length - 1].savedPct < 60, `${rows[rows.length - 1].savedPct} %`);
    // The shared frames stop growing once every identical page is shared: the saving grows with N.
    assert.ok(Math.abs(rows[2].sharedFrames - rows[1].sharedFrames) <= 3);
  });
});
