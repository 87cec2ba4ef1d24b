// ρ = S / (P·(f + k(1−f))), k = 1/(1−τ): the metric and the victim it picks.
import { strict as assert } from 'node:assert';
import { adjustedPageCost, defaultShares, idleCost, policyTau, sharesPerPage, TaxRateError } from '../../../../src/engine/memory/overcommit/policy/shares';
import { revocationVictim } from '../../../../src/engine/memory/overcommit/policy/targets';
import { rng } from '../../../support/rng';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);

describe('policy/shares — ρ', () => {
  const S = 1000;
  const P = 250;
  const cases: { tau: number; f: number; rho: number; note: string }[] = [
    { tau: 0.75, f: 0.1, rho: S / (3.7 * P), note: 'the reference example, VM1: ρ₁ = S/(3.7P)' },
    { tau: 0.75, f: 0.9, rho: S / (1.3 * P), note: 'the reference example, VM2: ρ₂ = S/(1.3P)' },
    { tau: 0, f: 0, rho: S / P, note: 'τ = 0: pure shares, idle or not' },
    { tau: 0, f: 1, rho: S / P, note: 'τ = 0, active' },
    { tau: 0.75, f: 1, rho: S / P, note: 'fully active pages are untaxed' },
    { tau: 0.75, f: 0, rho: S / (4 * P), note: 'fully idle at τ = 0.75: k = 4' },
    { tau: 0.5, f: 0.5, rho: S / (1.5 * P), note: 'k = 2: 0.5 + 2·0.5' },
    { tau: 0.9, f: 0, rho: S / (10 * P), note: 'k = 10' },
    { tau: 0.75, f: 1.3, rho: S / P, note: 'an estimate above 1 is clamped' },
    { tau: 0.75, f: -0.2, rho: S / (4 * P), note: 'an estimate below 0 is clamped' },
  ];
  for (const c of cases) {
    it(`${c.note} (τ ${c.tau}, f ${c.f})`, () => close(sharesPerPage(S, P, c.f, c.tau), c.rho, c.note));
  }

  it('the reference example makes VM1 (f = 0.1) the victim', () => {
    const v = revocationVictim(
      [
        { id: 1, shares: S, pages: P, minPages: 0, activeFraction: 0.1 },
        { id: 2, shares: S, pages: P, minPages: 0, activeFraction: 0.9 },
      ],
      0.75,
    );
    assert.equal(v, 1);
  });

  it('k = 1/(1−τ); τ = 1 and values outside [0, 1) are rejected with the reason', () => {
    close(idleCost(0), 1, 'k(0)');
    close(idleCost(0.75), 4, 'k(0.75)');
    for (const bad of [1, 1.5, -0.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => idleCost(bad), (e: unknown) => e instanceof TaxRateError && /0 ≤ τ < 1/.test((e as Error).message), `τ = ${bad}`);
      assert.throws(() => sharesPerPage(S, P, 0.5, bad), TaxRateError);
    }
  });

  it('a VM holding no pages has ρ = ∞ (nothing to revoke); negative inputs are errors', () => {
    assert.equal(sharesPerPage(S, 0, 0, 0.75), Number.POSITIVE_INFINITY);
    assert.throws(() => sharesPerPage(-1, P, 0, 0), RangeError);
    assert.throws(() => sharesPerPage(S, -1, 0, 0), RangeError);
  });

  it('policy τ: shares ignores the configured rate, idle-tax and working-set use it', () => {
    assert.equal(policyTau('shares', 0.75), 0);
    assert.equal(policyTau('idle-tax', 0.6), 0.6);
    assert.equal(policyTau('working-set', 0.6), 0.6);
  });

  it('default shares: 10 per MiB (vSphere normal)', () => {
    assert.equal(defaultShares(256 * 1024 * 1024), 2560);
    assert.equal(defaultShares(4096), 1);
  });

  it('generated: ρ falls with pages, and (τ > 0) with idleness; the cost is in [1, k]', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const tau = r.int(95) / 100;
      const s = 1 + r.int(10000);
      const p = 1 + r.int(100000);
      const f = r.int(101) / 100;
      const c = adjustedPageCost(f, tau);
      assert.ok(c >= 1 - 1e-12 && c <= idleCost(tau) + 1e-12);
      assert.ok(sharesPerPage(s, p + 1, f, tau) < sharesPerPage(s, p, f, tau));
      if (tau > 0 && f >= 0.01) assert.ok(sharesPerPage(s, p, f - 0.01, tau) < sharesPerPage(s, p, f, tau));
    }
  });
});

describe('policy/targets — victim choice (min-funding revocation)', () => {
  type C = { id: number; shares: number; pages: number; minPages: number; activeFraction: number };
  const vm = (id: number, shares: number, pages: number, f = 1, minPages = 0): C => ({ id, shares, pages, minPages, activeFraction: f });
  const cases: { name: string; tau: number; vms: C[]; victim: number | null }[] = [
    { name: 'fewest shares per page', tau: 0, vms: [vm(1, 1000, 100), vm(2, 1000, 200)], victim: 2 },
    { name: 'more shares protect more pages', tau: 0, vms: [vm(1, 3000, 300), vm(2, 1000, 200)], victim: 2 },
    { name: 'τ = 0: idleness does not matter', tau: 0, vms: [vm(1, 1000, 100, 0), vm(2, 1000, 101, 1)], victim: 2 },
    { name: 'τ = 0.75: the idle VM pays the tax', tau: 0.75, vms: [vm(1, 1000, 100, 0), vm(2, 1000, 300, 1)], victim: 1 },
    { name: 'τ = 0.75: but not past 4× the pages', tau: 0.75, vms: [vm(1, 1000, 100, 0), vm(2, 1000, 401, 1)], victim: 2 },
    { name: 'a VM at its min is skipped', tau: 0.75, vms: [vm(1, 1000, 100, 0, 100), vm(2, 1000, 300, 1)], victim: 2 },
    { name: 'every VM at its min: none', tau: 0.75, vms: [vm(1, 1000, 100, 0, 100), vm(2, 1000, 50, 1, 60)], victim: null },
    { name: 'zero shares: always first', tau: 0, vms: [vm(1, 0, 10), vm(2, 1000, 5000)], victim: 1 },
    { name: 'tie: the larger holder', tau: 0, vms: [vm(1, 1000, 100), vm(2, 2000, 200)], victim: 2 },
    { name: 'tie, same size: the lower id', tau: 0, vms: [vm(2, 1000, 100), vm(1, 1000, 100)], victim: 1 },
    { name: 'no VMs', tau: 0, vms: [], victim: null },
  ];
  for (const c of cases) it(c.name, () => assert.equal(revocationVictim(c.vms, c.tau), c.victim));
});
