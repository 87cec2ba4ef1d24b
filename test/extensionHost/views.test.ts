// The tree views and the status bar in the real extension host, against a real vmem session:
// what the providers show is what the adapter answers, changed entries are marked after a step,
// the views follow the vCPU that stopped, and everything clears when the session ends.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TablePayloadWire, TlbWire } from '../../src/debugAdapter/viewsProtocol';
import type { EntryNode, PtNode } from '../../src/extension/views/pageTables/ptModel';
import { rowOf } from '../../src/extension/views/pageTables/ptModel';
import { entryRow } from '../../src/extension/views/tlb/tlbModel';
import type { TlbNode } from '../../src/extension/views/tlb/tlbModel';
import { waitFor, workspaceFolder } from './hostHelpers';
import { debugTo, endSession, nextStop, vmemApi } from './vmemSession';
import type { VmemApi } from './vmemSession';

const entryNodes = (nodes: PtNode[]): EntryNode[] => nodes.filter((n): n is EntryNode => n.type === 'entry');

/** Every entry below `node` (depth-first through the provider, i.e. one request per table). */
async function allEntries(provider: vscode.TreeDataProvider<PtNode>, node: PtNode): Promise<EntryNode[]> {
  const out: EntryNode[] = [];
  for (const e of entryNodes((await provider.getChildren(node)) ?? [])) {
    out.push(e);
    if (e.child) out.push(...(await allEntries(provider, e)));
  }
  return out;
}

describe('views against a real session', function () {
  this.timeout(90_000);
  let a: VmemApi;

  before(async () => {
    a = await vmemApi();
    await vscode.commands.executeCommand('workbench.view.extension.vmem');
  });

  afterEach(async () => endSession(a));

  it('shadow mode at a hidden fault: page tables, TLB and status bar show what the adapter answers', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-processes.s');
    const stop = await debugTo(a, { program, mode: 'shadow' }, ['pf-hidden'], (s) => s.reason === 'exception');
    assert.match(stop.description ?? '', /^Hidden page fault at gva 0x/);
    assert.deepEqual([stop.vm, stop.vcpu], [1, 0]);
    assert.ok(stop.focusAddress, 'a focus address at a fault');
    assert.equal(BigInt(stop.focusAddress), BigInt(/gva (0x[0-9a-f]+)/.exec(stop.description ?? '')![1]));

    const pt = a.views.pageTables;
    const vms = (await pt.getChildren()) ?? [];
    assert.deepEqual(vms.map((v) => [rowOf(v).label, rowOf(v).description]), [['vm1', 'shadow']]);
    const kinds = (await pt.getChildren(vms[0])) ?? [];
    assert.deepEqual(kinds.map((k) => rowOf(k).label), ['Guest PT', 'Shadow PT']);
    const guest = kinds[0];
    assert.equal(guest.type, 'root');
    if (guest.type !== 'root') return;
    const shown = entryNodes((await pt.getChildren(guest)) ?? []);
    const asked = (await stop.session.customRequest('vmem/tableEntries', { vm: 1, kind: 'guest', address: guest.root.address, level: guest.root.level, vcpu: 0 })) as TablePayloadWire;
    assert.deepEqual(shown.map((e) => [e.entry.index, e.entry.value]), asked.entries.map((e) => [e.index, e.value]));
    assert.ok(shown.length > 0);
    assert.equal(rowOf(shown[0]).label.split(' ')[0], `[${asked.entries[0].index}]`);

    const tlbGroups = ((await a.views.tlb.getChildren()) ?? []) as TlbNode[];
    const rows: TlbNode[] = [];
    for (const g of tlbGroups) rows.push(...(((await a.views.tlb.getChildren(g)) ?? []) as TlbNode[]));
    const tlb = (await stop.session.customRequest('vmem/tlb', { vm: 1, vcpu: 0 })) as TlbWire;
    assert.equal(rows.length, tlb.entries.length);
    assert.deepEqual(rows.map((r) => (r.type === 'entry' ? entryRow(r).label : '')).sort(), tlb.entries.map((e) => `0x${e.vpn.toString(16)} → 0x${Math.floor(e.frame / 4096).toString(16)}`).sort());

    const text = await waitFor('the status bar paging mode', () => (/4-level/.test(a.views.statusBar.item.text) ? a.views.statusBar.item.text : undefined));
    assert.match(text, /^\$\(server-process\) vm1\/vcpu0 · shadow · 4-level · [\d,]+ exits?$/);
  });

  it('marks the entries changed since the previous stop', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-processes.s');
    const stop = await debugTo(a, { program, mode: 'shadow' }, ['pf-hidden'], (s) => s.reason === 'exception');
    const pt = a.views.pageTables;
    const vm = ((await pt.getChildren()) ?? [])[0];
    const shadowGroup = ((await pt.getChildren(vm)) ?? []).find((k) => rowOf(k).label === 'Shadow PT');
    assert.ok(shadowGroup);
    const readAll = async (): Promise<EntryNode[]> => {
      const roots = ((await pt.getChildren(shadowGroup)) ?? []).filter((r) => r.type === 'root');
      const out: EntryNode[] = [];
      for (const r of roots) out.push(...(await allEntries(pt, r)));
      return out;
    };
    const before = await readAll();
    assert.ok(before.every((e) => !e.changed), 'nothing is marked at the first read');
    // At a hidden-fault stop the VMM has already filled the entry, so an instruction step changes
    // nothing; between this fault and the next one the guest writes a page (the shadow leaf gets
    // its D bit) and the next fill lands.
    const stepped = nextStop(a, (s) => s.stopCount > stop.stopCount);
    await stop.session.customRequest('continue', { threadId: stop.threadId });
    await stepped;
    const after = await readAll();
    const changed = after.filter((e) => e.changed);
    assert.ok(changed.length > 0, 'a shadow entry was filled by the step');
    for (const e of changed) {
      const old = before.find((b) => b.id === e.id);
      assert.ok(!old || old.entry.value !== e.entry.value, `${e.id} marked but unchanged`);
      assert.match(rowOf(e).description ?? '', / • changed$/);
    }
    const unchanged = after.filter((e) => !e.changed && before.some((b) => b.id === e.id));
    for (const e of unchanged) assert.equal(before.find((b) => b.id === e.id)!.entry.value, e.entry.value);
  });

  it('follows the vCPU that stopped: the nested VM of two-vms.json', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-vms.json');
    const stop = await debugTo(a, { program }, ['ept-violation'], (s) => s.reason === 'exception');
    assert.equal(stop.vm, 2, 'the EPT violation happens in the nested VM');
    const tlb = (await stop.session.customRequest('vmem/tlb', { vm: 2, vcpu: 0 })) as TlbWire;
    const groups = ((await a.views.tlb.getChildren()) ?? []) as TlbNode[];
    let count = 0;
    for (const g of groups) count += ((await a.views.tlb.getChildren(g)) ?? []).length;
    assert.equal(count, tlb.entries.length);
    const vms = (await a.views.pageTables.getChildren()) ?? [];
    assert.deepEqual(vms.map((v) => rowOf(v).label), ['shadowed', 'nested']);
    const nestedKinds = ((await a.views.pageTables.getChildren(vms[1])) ?? []).map((k) => rowOf(k).label);
    assert.ok(nestedKinds.includes('EPT'), nestedKinds.join());
    const text = await waitFor('the status bar', () => (a.views.statusBar.item.text.includes('nested/vcpu0') ? a.views.statusBar.item.text : undefined));
    assert.match(text, /nested\/vcpu0 · nested/);
  });

  it('clears when the session ends', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-processes.s');
    await debugTo(a, { program, mode: 'shadow' }, ['pf-hidden'], (s) => s.reason === 'exception');
    assert.ok(((await a.views.pageTables.getChildren()) ?? []).length > 0);
    await endSession(a);
    assert.deepEqual(await a.views.pageTables.getChildren(), []);
    assert.deepEqual(await a.views.tlb.getChildren(), []);
    assert.equal(a.sessions.state, undefined);
  });
});
