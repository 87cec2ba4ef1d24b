// The views' round-trip savers: `vmem/tables` (several tables in one request, each answered as
// `vmem/tableEntries` answers it, or failing alone) and the `vmem/stopped` event (what a stop is
// about — the stopped thread's VM, vCPU and vmem/context — right after every `stopped`).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ContextWire, StopContextWire, TableEntriesArgs, TablePayloadWire, TableRootWire, TablesWire } from '../../src/debugAdapter/viewsProtocol';
import { act, adapterPerTest, launchAndStop, ROOT } from './adapterHarness';

const DEMAND = join(ROOT, 'examples/demand-paging.s');
const AFTER_STORE = 31;

describe('views: vmem/tables and the vmem/stopped event', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  const req = async <T>(command: string, args: object = {}): Promise<T> => (await h.dc.customRequest(command, args)).body as T;

  for (const mode of ['native', 'shadow']) {
    it(`vmem/stopped follows every stopped event with the stopped vCPU's context (${mode})`, async () => {
      const seen: { event: string; body: unknown }[] = [];
      for (const event of ['stopped', 'vmem/stopped', 'vmem/statistics']) h.dc.on(event, (e: DebugProtocol.Event) => seen.push({ event, body: e.body }));
      await launchAndStop(h.dc, { program: DEMAND, mode }, () => h.dc.setBreakpointsRequest({ source: { path: DEMAND }, breakpoints: [{ line: AFTER_STORE }] }));
      const check = async (): Promise<void> => {
        // The events of the last stop: stopped, its statistics, then vmem/stopped.
        const at = seen.map((s) => s.event).lastIndexOf('stopped');
        for (let i = 0; i < 100 && seen.length < at + 3; i++) await new Promise((ok) => setTimeout(ok, 10));
        assert.deepEqual(seen.slice(at).map((s) => s.event), ['stopped', 'vmem/statistics', 'vmem/stopped']);
        const stopped = seen[at].body as DebugProtocol.StoppedEvent['body'];
        const told = seen[at + 2].body as StopContextWire;
        assert.equal(told.threadId, stopped.threadId);
        assert.deepEqual([told.vm, told.vcpu], [1, 0]);
        assert.deepEqual(told.context, await req<ContextWire>('vmem/context', { vm: 1, vcpu: 0 }));
      };
      await check();
      await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
      await check();
      const ctx = (seen[seen.length - 1].body as StopContextWire).context;
      assert.notEqual(ctx.source, 'none');
      assert.ok(ctx.focusAddress !== null, 'the heap store is the focus');
      // Time travel stops too.
      await act(h.dc, h.dc.stepBackRequest({ threadId: 1 }));
      await check();
      await act(h.dc, h.dc.nextRequest({ threadId: 1 }));
      await check();
    });
  }

  it('vmem/tables answers each table as vmem/tableEntries does; a bad item fails alone', async () => {
    await launchAndStop(h.dc, { program: DEMAND, mode: 'shadow' }, () => h.dc.setBreakpointsRequest({ source: { path: DEMAND }, breakpoints: [{ line: AFTER_STORE }] }));
    const roots = await req<TableRootWire[]>('vmem/tableRoots');
    const guest = roots.find((r) => r.kind === 'guest');
    const shadow = roots.find((r) => r.kind === 'shadow');
    assert.ok(guest && shadow);
    const rootArgs = (r: TableRootWire): TableEntriesArgs => ({ vm: r.vm, kind: r.kind, address: r.address, level: r.level, paging: r.paging === 'ept' ? undefined : r.paging, vcpu: r.vcpu });
    const top = await req<TablePayloadWire>('vmem/tableEntries', rootArgs(guest));
    const next = top.entries.find((e) => e.present && !e.leaf && e.childLevel !== undefined && e.target !== null);
    assert.ok(next, 'a present non-leaf entry in the guest root');
    const childArgs: TableEntriesArgs = { vm: 1, kind: 'guest', address: next.target!, level: next.childLevel!, paging: guest.paging === 'ept' ? undefined : guest.paging, vcpu: guest.vcpu, base: next.maps.from };
    const asked: TableEntriesArgs[] = [rootArgs(guest), childArgs, rootArgs(shadow), { ...childArgs, includeNotPresent: true }];
    const bad = [{ vm: 1, kind: 'bogus', address: 0, level: 4 }, { vm: 1, kind: 'guest', address: guest.address }, { vm: 9, kind: 'guest', address: guest.address, level: 4 }, 'not an object'];
    const batch = await req<TablesWire>('vmem/tables', { tables: [asked[0], bad[0], asked[1], bad[1], asked[2], bad[2], asked[3], bad[3]] });
    assert.equal(batch.tables.length, 8);
    for (const [i, a] of asked.entries()) {
      const r = batch.tables[i * 2];
      assert.ok(r.ok, `item ${i * 2}`);
      assert.deepEqual(r.table, await req<TablePayloadWire>('vmem/tableEntries', a));
    }
    for (const [i, pattern] of [/kind/, /address and level/, /./, /kind/].entries()) {
      const r = batch.tables[i * 2 + 1];
      assert.ok(!r.ok, `item ${i * 2 + 1} fails`);
      assert.match(r.error, pattern);
    }
    // includeNotPresent reaches the item: more entries than without.
    assert.ok(batch.tables[6].ok && batch.tables[2].ok && batch.tables[6].table.entries.length > batch.tables[2].table.entries.length);
    assert.deepEqual(await req<TablesWire>('vmem/tables', { tables: [] }), { tables: [] });
    await assert.rejects(h.dc.customRequest('vmem/tables', {}), /tables/);
  });
});
