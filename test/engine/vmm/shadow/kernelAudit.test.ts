// The teaching kernel under shadow paging with the MMU audit after every instruction, and the
// hidden/true fault split of demand paging.
import { strict as assert } from 'node:assert';
import { assembleExample, observe } from './shadowTestUtil';

describe('shadow mode: kernel programs, audited after every instruction', () => {
  for (const paging of [64, 32] as const) {
    for (const sync of ['trace', 'unsync'] as const) {
      it(`hello.s PAGING=${paging} (${sync}): audit clean at every step`, () => {
        const o = observe(assembleExample('hello.s', paging), { mode: 'shadow', auditEachStep: true, modeOptions: { shadow: { sync } } });
        assert.deepEqual(o.audits, []);
        assert.equal(o.exitCode, 0);
      });
    }
    it(`demand-paging.s PAGING=${paging}: the guest's 9 faults are true faults; the VMM's are hidden`, () => {
      const native = observe(assembleExample('demand-paging.s', paging), { mode: 'native' });
      const o = observe(assembleExample('demand-paging.s', paging), { mode: 'shadow', auditEachStep: true });
      assert.deepEqual(o.audits, []);
      const pf = o.events.filter((e) => e.kind === 'page-fault');
      const truePf = pf.filter((e) => e.kind === 'page-fault' && !e.hidden);
      const hidden = pf.filter((e) => e.kind === 'page-fault' && e.hidden);
      assert.equal(truePf.length, native.events.filter((e) => e.kind === 'page-fault').length);
      assert.equal(truePf.length, 9);
      assert.ok(hidden.length > 9, `${hidden.length} hidden`);
      assert.equal(o.monitor!.exitCounts.get(0), truePf.length + hidden.length);
      // Same faults, same error codes and addresses as native, in order.
      const view = (es: typeof pf): string[] => es.map((e) => (e.kind === 'page-fault' ? `${e.gva.toString(16)}:${e.errorCode}` : ''));
      assert.deepEqual(view(truePf), view(native.events.filter((e) => e.kind === 'page-fault')));
      // The kernel's PTE stores for the 9 new pages are traced writes.
      assert.ok(o.events.filter((e) => e.kind === 'pt-write').length >= 9);
    });
  }
});
