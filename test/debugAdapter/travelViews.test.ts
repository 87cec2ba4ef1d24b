// Time travel rewinds what the views read, not only the engine: after reverseContinue or
// stepBack, vmem/events holds no event of the undone future and vmem/statistics equals what it
// was at that point (both are snapshotted with the engine).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { ContextWire, EventsWire, StatisticsWire } from '../../src/debugAdapter/viewsProtocol';
import { act, adapterPerTest, launchAndStop, ROOT, topFrame } from './adapterHarness';

const DEMAND = join(ROOT, 'examples/demand-paging.s');
const STORE_LINE = 30;
const AFTER_STORE = 31;

describe('time travel rewinds the views', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  const events = async (): Promise<EventsWire> => (await h.dc.customRequest('vmem/events', { limit: 1000 })).body as EventsWire;
  const stats = async (): Promise<StatisticsWire> => (await h.dc.customRequest('vmem/statistics', {})).body as StatisticsWire;
  const context = async (): Promise<ContextWire> => (await h.dc.customRequest('vmem/context', { vm: 1, vcpu: 0 })).body as ContextWire;
  const faults = (s: StatisticsWire): number => s.vms[0].faults?.pageFaults ?? -1;

  for (const mode of ['native', 'shadow']) {
    it(`reverseContinue and stepBack restore the event log and the statistics (${mode})`, async () => {
      await launchAndStop(h.dc, { program: DEMAND, mode }, () => h.dc.setBreakpointsRequest({ source: { path: DEMAND }, breakpoints: [{ line: AFTER_STORE }] }));
      const e1 = await events();
      const s1 = await stats();
      assert.ok(faults(s1) >= 1, 'the first heap store faulted');
      await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
      const e2 = await events();
      const s2 = await stats();
      assert.equal(faults(s2), faults(s1) + 1, 'the second heap store faulted');
      assert.ok(e2.total > e1.total, 'the second fault was logged');

      // Back to the first stop: exactly what the views read there.
      await act(h.dc, h.dc.reverseContinueRequest({ threadId: 1 }));
      assert.equal((await topFrame(h.dc)).line, AFTER_STORE);
      assert.deepEqual(await events(), e1);
      assert.deepEqual(await stats(), s1);

      // Forward again, then one line back (before the second store): its fault is undone.
      await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
      assert.deepEqual(await stats(), s2, 'the re-run future is the same future');
      assert.deepEqual((await events()).events.map((e) => e.event), e2.events.map((e) => e.event));
      await act(h.dc, h.dc.stepBackRequest({ threadId: 1 }));
      assert.equal((await topFrame(h.dc)).line, STORE_LINE);
      const back = await events();
      const s3 = await stats();
      assert.equal(faults(s3), faults(s1));
      assert.equal(s3.instructions, (await context()).icount);
      assert.ok(back.events.every((e) => BigInt(e.event.icount) < BigInt(s3.vms[0].instructions)), 'no event from after this point');
      assert.equal(back.counts['page-fault'], e1.counts['page-fault']);
      assert.ok(back.total < e2.total, 'total went down: a client holding later seqs knows to refetch');
    });
  }
});
