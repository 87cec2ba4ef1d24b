// Targets: the closed-form water-fill equals page-by-page min-funding revocation; bounds, the
// working-set policy, admission control.
import { strict as assert } from 'node:assert';
import { AdmissionControl, allocationTargets, revokeOneByOne, type TargetClient, type TargetOptions } from '../../../../src/engine/memory/overcommit/policy/targets';
import { rng } from '../../../support/rng';

const opts = (policy: TargetOptions['policy'], tau = 0.75): TargetOptions => ({ policy, tau, workingSetHeadroom: 0.1 });
const client = (id: number, p: Partial<TargetClient> = {}): TargetClient => ({
  id,
  shares: 1000,
  minPages: 0,
  maxPages: 256,
  allocatedPages: 256,
  demandPages: 256,
  activeFraction: 1,
  ...p,
});
const sum = (m: Map<number, number>): number => [...m.values()].reduce((s, v) => s + v, 0);

describe('policy/targets — allocation targets', () => {
  it('Fig. 7 arithmetic: 360 pages, two 256-page VMs, equal shares, one idle one active', () => {
    const vms = [client(1, { activeFraction: 0 }), client(2, { activeFraction: 1 })];
    const plain = allocationTargets(vms, 360, opts('shares'));
    assert.deepEqual([plain.get(1), plain.get(2)], [180, 180]);
    const taxed = allocationTargets(vms, 360, opts('idle-tax', 0.75));
    // T2 = 4·T1 would be 288 > max 256, so VM2 gets its max and VM1 the rest.
    assert.deepEqual([taxed.get(1), taxed.get(2)], [104, 256]);
    const mild = allocationTargets(vms, 360, opts('idle-tax', 0.5));
    // k = 2: T2 = 2·T1 → 120 / 240.
    assert.deepEqual([mild.get(1), mild.get(2)], [120, 240]);
  });

  it('generated: the water-fill matches revoking one page at a time from the lowest ρ (±1 page)', () => {
    const r = rng(11);
    for (let n = 0; n < 300; n++) {
      const count = 1 + r.int(5);
      const vms: TargetClient[] = [];
      for (let i = 0; i < count; i++) {
        const max = 20 + r.int(200);
        const min = r.int(3) === 0 ? 0 : r.int(Math.floor(max / 2));
        const demand = min + r.int(max - min + 1);
        vms.push(client(i + 1, { shares: 1 + r.int(5000), minPages: min, maxPages: max, demandPages: demand, allocatedPages: demand, activeFraction: r.int(101) / 100 }));
      }
      const sumLo = vms.reduce((s, v) => s + v.minPages, 0);
      const sumHi = vms.reduce((s, v) => s + v.demandPages, 0);
      if (sumHi <= sumLo) continue;
      const budget = sumLo + r.int(sumHi - sumLo);
      const tau = [0, 0.5, 0.75, 0.9][r.int(4)];
      const fast = allocationTargets(vms, budget, opts('idle-tax', tau));
      const slow = revokeOneByOne(vms, budget, tau);
      assert.equal(sum(fast), budget, `case ${n}: targets sum to the budget`);
      for (const v of vms) {
        const t = fast.get(v.id)!;
        assert.ok(t >= v.minPages && t <= v.demandPages, `case ${n}: VM ${v.id} target ${t} outside [${v.minPages}, ${v.demandPages}]`);
        assert.ok(Math.abs(t - slow.get(v.id)!) <= 1, `case ${n} τ ${tau}: VM ${v.id} water-fill ${t} vs one-by-one ${slow.get(v.id)} (${JSON.stringify(vms)} budget ${budget})`);
      }
    }
  });

  it('mins hold even when the budget cannot cover them; maxes hold when it is generous', () => {
    const vms = [client(1, { minPages: 100 }), client(2, { minPages: 150 })];
    const tight = allocationTargets(vms, 120, opts('idle-tax'));
    assert.deepEqual([tight.get(1), tight.get(2)], [100, 150]);
    const roomy = allocationTargets(vms, 10000, opts('idle-tax'));
    assert.deepEqual([roomy.get(1), roomy.get(2)], [256, 256]);
  });

  it('a VM is not squeezed for another that does not use its share; surplus goes out by shares up to max', () => {
    // VM1 touched only 50 pages: VM2 gets what VM1 does not use.
    const vms = [client(1, { demandPages: 50, allocatedPages: 50 }), client(2, { demandPages: 256 })];
    const t = allocationTargets(vms, 300, opts('shares'));
    assert.deepEqual([t.get(1), t.get(2)], [50, 250]);
    // Budget above all demand: entitlements by shares (equal ρ: totals 2:1) up to max.
    const s = allocationTargets([client(1, { demandPages: 10, shares: 2000 }), client(2, { demandPages: 10, shares: 1000 })], 320, opts('shares'));
    assert.deepEqual([s.get(1), s.get(2)], [213, 107]);
    assert.ok(sum(s) === 320);
  });

  it('working-set policy: estimated working sets first (with headroom), the rest by ρ', () => {
    // VM1: 200 pages, 20 % active → needs 44; VM2: 200 pages, 90 % active → 198.
    const vms = [client(1, { allocatedPages: 200, demandPages: 200, activeFraction: 0.2 }), client(2, { allocatedPages: 200, demandPages: 200, activeFraction: 0.9 })];
    const t = allocationTargets(vms, 250, opts('working-set', 0.75));
    assert.ok(t.get(1)! >= 44 && t.get(2)! >= 198, JSON.stringify([...t]));
    assert.equal(sum(t), 250);
    // Not even the working sets fit: shares split the shortage, never below min.
    const short = allocationTargets([{ ...vms[0], minPages: 30 }, vms[1]], 150, opts('working-set'));
    assert.ok(short.get(1)! >= 30);
    assert.equal(sum(short), 150);
  });

  it('an empty set of VMs and a zero budget are fine', () => {
    assert.equal(allocationTargets([], 100, opts('shares')).size, 0);
    const z = allocationTargets([client(1, { minPages: 5 })], 0, opts('shares'));
    assert.equal(z.get(1), 5);
  });
});

describe('policy/targets — admission control', () => {
  it('reserves min + overhead in memory and max − min in swap', () => {
    const a = new AdmissionControl(1000, 500);
    assert.equal(a.admit(1, { minPages: 300, maxPages: 600, overheadPages: 50 }), null);
    assert.equal(a.reservedMemoryPages, 350);
    assert.equal(a.reservedSwapPages, 300);
    assert.match(a.admit(2, { minPages: 600, maxPages: 600, overheadPages: 100 }) ?? '', /min \+ overhead = 700 pages but only 650/);
    assert.match(a.admit(3, { minPages: 100, maxPages: 400, overheadPages: 0 }) ?? '', /300 pages of swap needed but only 200/);
    assert.equal(a.admit(4, { minPages: 100, maxPages: 300, overheadPages: 0 }), null);
    assert.match(a.admit(4, { minPages: 1, maxPages: 1, overheadPages: 0 }) ?? '', /already admitted/);
    assert.match(a.admit(5, { minPages: 10, maxPages: 5, overheadPages: 0 }) ?? '', /min ≤ max/);
    a.release(1);
    assert.equal(a.reservedMemoryPages, 100);
    assert.equal(a.admit(2, { minPages: 600, maxPages: 600, overheadPages: 100 }), null);
  });
});
