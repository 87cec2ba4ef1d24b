// The views' requests over DAP in the scenarios they are for: vmem/context at a hidden fault
// (shadow), an EPT violation (nested) and before any translation; a paravirtual guest (its
// tables hold machine addresses); two VMs on one machine (threads, table roots and events per
// VM, a breakpoint in one VM's program).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { ContextWire, EventsWire, StatisticsWire, TableRootWire, TablePayloadWire, TranslationWire } from '../../src/debugAdapter/viewsProtocol';
import { act, adapterPerTest, launchAndStop, ROOT, topFrame } from './adapterHarness';

const HELLO = join(ROOT, 'examples/hello.s');
const PV_HELLO = join(ROOT, 'examples/pv-hello.s');
const TWO_VMS = join(ROOT, 'examples/two-vms.json');
const DEMAND = join(ROOT, 'examples/demand-paging.s');
const TWO_PROCESSES = join(ROOT, 'examples/two-processes.s');

describe('views requests in every scenario', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  async function view<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    return (await h.dc.customRequest(command, args)).body as T;
  }

  const gvaIn = (text: string | undefined): bigint => BigInt(/gva (0x[0-9a-f]+)/.exec(text ?? '')![1]);

  const FAULT_STOPS: [string, string, string][] = [['shadow', 'pf-hidden', 'Hidden page fault'], ['nested', 'ept-violation', 'EPT violation']];
  for (const [mode, filter, words] of FAULT_STOPS) {
    it(`vmem/context names the faulting gva of a ${filter} stop (${mode})`, async () => {
      const ev = await launchAndStop(h.dc, { program: HELLO, mode }, () => h.dc.setExceptionBreakpointsRequest({ filters: [filter] }));
      assert.equal(ev.body.reason, 'exception');
      assert.match(ev.body.description ?? '', new RegExp(words));
      const c = await view<ContextWire>('vmem/context', { vm: 1, vcpu: 0 });
      assert.equal(c.source, 'fault');
      assert.equal(BigInt(c.focusAddress!), gvaIn(ev.body.description));
      assert.equal(c.access, /fetch/.test(ev.body.description ?? '') ? 'fetch' : c.access);
      assert.equal(c.icount, (await view<StatisticsWire>('vmem/statistics')).instructions);
      // The views walk it next: the walk answers for that address.
      const w = await view<TranslationWire>('vmem/walk', { vm: 1, vcpu: 0, gva: c.focusAddress!, access: c.access });
      assert.equal(BigInt(w.gva), BigInt(c.focusAddress!));
    });
  }

  it('vmem/context before any translation, then on the last access; bad vCPUs are errors', async () => {
    await launchAndStop(h.dc, { program: HELLO, stopOnEntry: true });
    assert.deepEqual(await view<ContextWire>('vmem/context', { vm: 1, vcpu: 0 }), { icount: 0, focusAddress: null, access: 'read', source: 'none' });
    await assert.rejects(h.dc.customRequest('vmem/context', { vm: 1, vcpu: 3 }), /no vcpu3/);
    await assert.rejects(h.dc.customRequest('vmem/context', { vm: 4, vcpu: 0 }), /VM 4|no VM/i);
    await h.dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: 31 }] });
    await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
    const c = await view<ContextWire>('vmem/context', { vm: 1, vcpu: 0 });
    assert.notEqual(c.source, 'none');
    assert.match(c.focusAddress ?? '', /^0x[0-9a-f]+$/);
    assert.ok(c.icount > 0);
  });

  it('paravirt: stops on the hypercall filter; the guest tables are in machine-physical space', async () => {
    const ev = await launchAndStop(h.dc, { program: PV_HELLO, mode: 'paravirt' }, () => h.dc.setExceptionBreakpointsRequest({ filters: ['hypercall'] }));
    assert.equal(ev.body.reason, 'exception');
    const info = await h.dc.exceptionInfoRequest({ threadId: ev.body.threadId! });
    assert.equal(info.body.exceptionId, 'hypercall');
    // On to a hypercall made with paging on (the kernel's tables are live).
    let roots: TableRootWire[] = [];
    for (let i = 0; i < 60 && !roots.some((r) => r.kind === 'guest'); i++) {
      await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
      roots = await view<TableRootWire[]>('vmem/tableRoots');
    }
    const guest = roots.find((r) => r.kind === 'guest')!;
    assert.ok(guest, 'a guest root once paging is on');
    assert.equal(guest.space, 'mpa', 'direct paging: CR3 holds a machine address');
    assert.ok(!roots.some((r) => r.kind === 'shadow' || r.kind === 'ept'), 'no shadow, no EPT');
    const t = await view<TablePayloadWire>('vmem/tableEntries', { vm: 1, kind: 'guest', address: guest.address, level: guest.level, vcpu: 0 });
    assert.ok(t.presentCount > 0);
    const events = await view<EventsWire>('vmem/events', { limit: 1000 });
    assert.ok(events.events.some((e) => e.event.kind === 'hypercall'));
  });

  it('two VMs: a thread per VM, table roots and events per VM, a breakpoint in one VM’s program', async () => {
    await launchAndStop(h.dc, { program: TWO_VMS, stopOnEntry: true });
    const threads = (await h.dc.threadsRequest()).body.threads;
    assert.deepEqual(threads.map((t) => [t.id, t.name]), [[1, 'shadowed/vcpu0'], [101, 'nested/vcpu0']]);
    const bp = await h.dc.setBreakpointsRequest({ source: { path: DEMAND }, breakpoints: [{ line: 31 }] });
    assert.equal(bp.body.breakpoints[0].verified, true);
    const stop = await act(h.dc, h.dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal(stop.body.threadId, 101, 'demand-paging.s runs only in the second VM');
    const f = await topFrame(h.dc, 101);
    assert.equal(f.source?.path, DEMAND);
    assert.equal(f.line, 31);
    // The other VM's thread has its own program's frames.
    const other = await topFrame(h.dc, 1);
    assert.notEqual(other.source?.path, DEMAND);
    const roots = await view<TableRootWire[]>('vmem/tableRoots');
    assert.ok(roots.some((r) => r.vm === 1 && r.kind === 'shadow'), 'the shadowed VM has shadow roots');
    assert.ok(roots.some((r) => r.vm === 2 && r.kind === 'ept'), 'the nested VM has an EPT');
    assert.ok(!roots.some((r) => r.vm === 1 && r.kind === 'ept') && !roots.some((r) => r.vm === 2 && r.kind === 'shadow'));
    const events = await view<EventsWire>('vmem/events', { limit: 1000 });
    const vms = new Set(events.events.map((e) => e.vm));
    assert.deepEqual([...vms].sort(), [1, 2], 'events of both VMs, each tagged');
    assert.ok(events.events.filter((e) => e.vm === 2).some((e) => e.event.kind === 'ept-violation'));
    assert.ok(!events.events.filter((e) => e.vm === 1).some((e) => e.event.kind === 'ept-violation'));
    const stats = await view<StatisticsWire>('vmem/statistics');
    assert.deepEqual(stats.vms.map((v) => [v.vm, v.name, v.mode]), [[1, 'shadowed', 'shadow'], [2, 'nested', 'nested']]);
    // A breakpoint in the first VM's program stops its thread.
    await h.dc.setBreakpointsRequest({ source: { path: DEMAND }, breakpoints: [] });
    const b2 = await h.dc.setBreakpointsRequest({ source: { path: TWO_PROCESSES }, breakpoints: [{ line: 57 }] });
    assert.equal(b2.body.breakpoints[0].verified, true);
    const s2 = await act(h.dc, h.dc.continueRequest({ threadId: 101 }));
    assert.equal(s2.body.threadId, 1, 'two-processes.s runs only in the first VM');
    const f2 = await topFrame(h.dc, 1);
    assert.deepEqual([f2.source?.path, f2.line], [TWO_PROCESSES, 57]);
    const c = await view<ContextWire>('vmem/context', { vm: 2, vcpu: 0 });
    assert.ok(c.icount > 0);
  });
});
