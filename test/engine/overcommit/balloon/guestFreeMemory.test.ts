// What a balloon gets from the guest: the driver allocates through the kernel's allocator, which
// hands out its free list first, most recently freed first (frames.s), then frames never used.
// A guest that used memory and gave it back (active.s FREED: unmap with UNMAP_FREE) hands over
// pages that are still backed — each frees a machine frame, and the guest writes nothing to its
// disk; a guest that never used its spare memory hands over unbacked pages, which free nothing.
import { strict as assert } from 'node:assert';
import { startProgram, runStarted } from '../../../../src/engine/runner';
import { assembleExample } from '../../../support/runAsm';

function run(mode: 'shadow' | 'nested', freed: number) {
  const program = assembleExample('overcommit/active.s', { HOT: 16n, COLD: 8n, FREED: BigInt(freed), ROUNDS: 600n, FRAME_POOL_PAGES: 80n, GUEST_SWAP: 1n, BALLOON: 1n });
  const started = startProgram(program, { mode, maxSteps: 20_000_000, devices: { balloon: { schedule: [{ at: 0.5, pages: 20 }] } } });
  const summary = runStarted(started, { maxSteps: 20_000_000, audit: true, auditEvery: 50_000 });
  const balloon = started.devices.balloon!;
  return { summary, balloon };
}

describe('balloon: the guest hands over its free memory first', function () {
  this.timeout(60_000);
  for (const mode of ['shadow', 'nested'] as const) {
    it(`${mode}: pages the guest used and freed are backed — every ballooned page frees a frame, no guest I/O`, () => {
      const { summary, balloon } = run(mode, 24);
      assert.ok(summary.exit.ok, summary.exit.message);
      assert.match(summary.console, /active: used and freed 24 pages/);
      assert.match(summary.console, /16 hot pages intact after 600 rounds/);
      assert.match(summary.console, /8 cold pages intact/);
      assert.match(summary.console, /kernel: swapped out 0 pages/);
      assert.equal(balloon.size, 20);
      assert.equal(balloon.framesFreed, 20);
      assert.equal(balloon.counters.withoutFrame, 0);
    });

    it(`${mode}: a guest that never used its spare memory hands over unbacked pages, which free nothing`, () => {
      const { summary, balloon } = run(mode, 0);
      assert.ok(summary.exit.ok, summary.exit.message);
      assert.equal(balloon.size, 20);
      assert.equal(balloon.framesFreed, 0);
      assert.equal(balloon.counters.withoutFrame, 20);
    });
  }

  it('natively, unmap with UNMAP_FREE returns the frames: the pages are re-used, the data checks pass', () => {
    const program = assembleExample('overcommit/active.s', { HOT: 20n, COLD: 60n, FREED: 30n, ROUNDS: 50n, FRAME_POOL_PAGES: 50n, GUEST_SWAP: 1n, BALLOON: 0n });
    const started = startProgram(program, { mode: 'native', maxSteps: 50_000_000 });
    const s = runStarted(started, { maxSteps: 50_000_000 });
    assert.ok(s.exit.ok, s.exit.message);
    assert.match(s.console, /used and freed 30 pages/);
    assert.match(s.console, /60 cold pages intact/);
  });
});
