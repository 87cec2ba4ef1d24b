// The expectation checker itself: a broken checker would let every example pass.
import { strict as assert } from 'node:assert';
import type { RunSummary } from '../../src/engine/runner';
import { checkRun, parseExpectations, parseVariants } from './expectations';

function summary(over: { console?: string; status?: number | null; reason?: RunSummary['exit']['reason']; pageFaults?: number }): RunSummary {
  const status = over.status === undefined ? 0 : over.status;
  const reason = over.reason ?? 'shutdown';
  return {
    mode: 'native', vcpus: 1, console: over.console ?? '', instructions: 100,
    exit: { reason, message: `${reason} ${status}`, status, ok: true },
    faults: { pageFaults: over.pageFaults ?? 0, hiddenFaults: 0, byAccess: { read: 0, write: 0, fetch: 0 }, notPresent: 0, protection: 0, exceptions: {} },
    interrupts: { timer: 0, software: 0 },
    tlb: { hits: 0, misses: 0, flushes: 0, entriesFlushed: 0, hitRate: 0 },
    events: {}, memory: { touchedFrames: 0 }, exits: { total: 0, byReason: {} }, vmm: {},
  };
}

describe('example expectations', () => {
  const src = ['; expect-exit: 0', '; expect-console: one', '; expect-console: two', '; expect-not-console: bad', '; expect-min: page-faults 3'].join('\n');
  const e = parseExpectations(src)!;

  it('parses every kind of line', () => {
    assert.equal(e.exit, 0);
    assert.deepEqual(e.console, ['one', 'two']);
    assert.deepEqual(e.notConsole, ['bad']);
    assert.deepEqual(e.counters.map((c) => [c.counter, c.op, c.value]), [['page-faults', 'min', 3]]);
    assert.equal(parseExpectations('; nothing here\nmov rax, 1'), undefined);
    assert.equal(parseExpectations('; expect-exit: halted')!.exit, 'halted');
  });

  it('rejects typos instead of ignoring them', () => {
    assert.throws(() => parseExpectations('; expect-consle: x'), /unknown expectation/);
    assert.throws(() => parseExpectations('; expect-min: page-fault 3'), /COUNTER/);
    assert.throws(() => parseExpectations('; expect-exit: zero'), /whole number/);
  });

  const cases: [string, Parameters<typeof summary>[0], number][] = [
    ['all met, other lines interleaved', { console: 'x\none\ny\ntwo\n', pageFaults: 3 }, 0],
    ['lines out of order', { console: 'two\none\n', pageFaults: 3 }, 1],
    ['a line missing', { console: 'one\n', pageFaults: 3 }, 1],
    ['a forbidden line', { console: 'one\nbad\ntwo\n', pageFaults: 5 }, 1],
    ['too few page faults', { console: 'one\ntwo\n', pageFaults: 2 }, 1],
    ['wrong status', { console: 'one\ntwo\n', pageFaults: 3, status: 1 }, 1],
    ['halted instead of exiting', { console: 'one\ntwo\n', pageFaults: 3, reason: 'halted', status: null }, 1],
  ];
  for (const [name, over, n] of cases) {
    it(`checks a run: ${name}`, () => assert.equal(checkRun(e, summary(over)).length, n));
  }
  it('variants: one run per define; qualified keys apply only to their variant', () => {
    const src = '; variants: PAGING=64 PAGING=32\n; expect-console: both\n; expect-console[32]: only 32\n; expect-console[PAGING=64]: only 64\n';
    const [v64, v32] = parseVariants(src);
    assert.deepEqual(v64.defines, { PAGING: 64n });
    assert.deepEqual(parseExpectations(src, v64)!.console, ['both', 'only 64']);
    assert.deepEqual(parseExpectations(src, v32)!.console, ['both', 'only 32']);
    assert.deepEqual(parseVariants('; expect-exit: 0'), [{ label: '', defines: {} }]);
    assert.throws(() => parseVariants('; variants: PAGING'), /NAME=NUMBER/);
  });
});
