// Experiments (c) and (d): ballooning vs hypervisor swapping, and double paging.
import { strict as assert } from 'node:assert';
import { balloonVsSwapExperiment } from '../../../../src/engine/memory/overcommit/experiments/balloonVsSwap';
import { doublePagingExperiment } from '../../../../src/engine/memory/overcommit/experiments/doublePaging';
import { loadOvercommitExample } from './loader';

type Row = Record<string, number | string | boolean | null>;
const sum = (rows: Row[], key: string): number => rows.reduce((s, r) => s + Number(r[key]), 0);

describe('experiment (c): ballooning vs hypervisor swapping', () => {
  const t = balloonVsSwapExperiment(loadOvercommitExample, 'small');
  const balloon = t.rows.filter((r) => r.config === 'balloon');
  const swap = t.rows.filter((r) => r.config === 'swap only');

  it('both configurations finish with intact data, audit-clean; only the balloon run inflates', () => {
    assert.deepEqual(t.auditViolations, []);
    for (const r of t.rows) assert.equal(r.finished, true, JSON.stringify(r));
    assert.ok(sum(balloon, 'balloon') > 0);
    assert.equal(sum(swap, 'balloon'), 0);
    assert.equal(sum(swap, 'guestSwapOuts'), 0, 'without a balloon the guests never run short themselves');
  });

  it('the pressure is real: without the balloon the VMM swaps and the guests stall on swap-ins', () => {
    assert.ok(sum(swap, 'vmmSwapOuts') > 0 && sum(swap, 'vmmSwapIns') > 0, JSON.stringify(swap));
    assert.ok(sum(swap, 'stallS') > 0, JSON.stringify(swap));
  });

  // The published shape (docs/overcommit/experiments.md (c)).
  it('ballooning costs the guests far less than hypervisor swapping', () => {
    assert.ok(sum(balloon, 'vmmSwapIns') * 2 < sum(swap, 'vmmSwapIns'), `VMM swap-ins: balloon ${sum(balloon, 'vmmSwapIns')}, swap only ${sum(swap, 'vmmSwapIns')}`);
    assert.ok(sum(balloon, 'stallS') * 2 < sum(swap, 'stallS'), `stall: balloon ${sum(balloon, 'stallS')}, swap only ${sum(swap, 'stallS')}`);
    assert.ok(sum(balloon, 'throughput') > sum(swap, 'throughput'), `throughput: balloon ${sum(balloon, 'throughput')}, swap only ${sum(swap, 'throughput')}`);
  });

  it('the balloon took memory the guest considered free: it wrote nothing to its own disk for it', () => {
    assert.equal(sum(balloon, 'guestSwapOuts'), 0, JSON.stringify(balloon));
  });
});

describe('experiment (d): double paging', () => {
  const t = doublePagingExperiment(loadOvercommitExample, 'small');
  const vmm = t.rows.filter((r) => r.config === 'VMM swapping');
  const balloon = t.rows.filter((r) => r.config === 'balloon');

  it('both configurations finish with intact data, audit-clean; the guests swap in both', () => {
    assert.deepEqual(t.auditViolations, []);
    for (const r of t.rows) assert.equal(r.finished, true, JSON.stringify(r));
    assert.ok(sum(vmm, 'guestSwapOuts') > 0 && sum(balloon, 'guestSwapOuts') > 0);
  });

  it('double paging under hypervisor swapping', () => {
    assert.ok(sum(vmm, 'doublePaging') > 0, JSON.stringify(vmm));
  });

  it('no double paging with ballooning: the VMM never swapped', () => {
    assert.equal(sum(balloon, 'doublePaging'), 0, JSON.stringify(balloon));
    assert.equal(sum(balloon, 'vmmSwapOuts'), 0, JSON.stringify(balloon));
    assert.ok(sum(balloon, 'balloon') > 0, JSON.stringify(balloon));
  });
});
