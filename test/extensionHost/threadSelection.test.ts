// The views follow the thread the user picks in CALL STACK. The pick is made as a keyboard user
// makes it — focus the CALL STACK view, move to a thread row, Enter (the list's `select`) — so
// VS Code itself sets the active stack item and VmemSessions hears it through the same event a
// click sends. After each pick the session state, the Page Tables view's guest root, the TLB
// view and the status bar are checked against what the adapter answers for that vCPU.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TableRootWire, TablePayloadWire, TlbWire } from '../../src/debugAdapter/viewsProtocol';
import type { StopState } from '../../src/extension/session';
import { rowOf } from '../../src/extension/views/pageTables/ptModel';
import type { PtNode, RootNode } from '../../src/extension/views/pageTables/ptModel';
import { entryRow } from '../../src/extension/views/tlb/tlbModel';
import type { TlbNode } from '../../src/extension/views/tlb/tlbModel';
import { waitFor, workspaceFolder } from './hostHelpers';
import { AP_LOOP_LINE, TWO_CPUS_CR3, writeTwoCpus } from './twoCpus';
import { endSession, nextState, nextStop, vmemApi } from './vmemSession';
import type { VmemApi } from './vmemSession';

/**
 * Picks the thread `vcpu` of vm1 in CALL STACK with the keyboard. With one session the rows are
 * the threads in id order (vm1/vcpu0, vm1/vcpu1), each followed by its frames when expanded; a
 * thread row is first of the list for vcpu0; for vcpu1 it is the row after vcpu0's — collapse
 * vcpu0 first (Left on a thread row) so its frames are not in between.
 */
async function pickThreadInCallStack(vcpu: 0 | 1): Promise<void> {
  await vscode.commands.executeCommand('workbench.debug.action.focusCallStackView');
  await vscode.commands.executeCommand('list.focusFirst');
  if (vcpu === 1) {
    await vscode.commands.executeCommand('list.collapse');
    await vscode.commands.executeCommand('list.focusDown');
  }
  await vscode.commands.executeCommand('list.select');
}

async function guestRootShown(a: VmemApi): Promise<RootNode> {
  const pt = a.views.pageTables;
  const vms = (await pt.getChildren()) ?? [];
  assert.equal(vms.length, 1, vms.map((v) => rowOf(v).label).join());
  const guest = ((await pt.getChildren(vms[0])) ?? []).find((k: PtNode): k is RootNode => k.type === 'root' && k.root.kind === 'guest');
  assert.ok(guest, 'no Guest PT root in the Page Tables view');
  return guest;
}

async function tlbLabelsShown(a: VmemApi): Promise<string[]> {
  const labels: string[] = [];
  for (const g of ((await a.views.tlb.getChildren()) ?? []) as TlbNode[]) {
    for (const r of ((await a.views.tlb.getChildren(g)) ?? []) as TlbNode[]) if (r.type === 'entry') labels.push(entryRow(r).label);
  }
  return labels.sort();
}

/** Everything that must name vcpu `vcpu` of vm1 once it is the selected thread. */
async function assertViewsFollow(a: VmemApi, state: StopState, vcpu: number): Promise<void> {
  assert.deepEqual([state.vm, state.vcpu], [1, vcpu], `VmemSessions.state names vm${state.vm}/vcpu${state.vcpu}`);
  assert.equal(a.sessions.state?.vcpu, vcpu, 'VmemSessions.state');
  // VS Code settles its focus on the stopped thread after the stop event: wait for it.
  await waitFor(`VS Code's active stack item on thread ${state.threadId} (it is on thread ${vscode.debug.activeStackItem?.threadId} of ${vscode.debug.activeStackItem?.session.id === state.session.id ? 'this' : 'another'} session)`,
    () => (vscode.debug.activeStackItem?.threadId === state.threadId ? true : undefined));
  assert.equal(a.sessions.state?.threadId, state.threadId, 'VmemSessions.state still names the thread VS Code focuses');

  const roots = (await state.session.customRequest('vmem/tableRoots', {})) as TableRootWire[];
  const root = roots.find((r) => r.kind === 'guest' && r.vm === 1 && r.vcpu === vcpu);
  assert.ok(root, `the adapter has no guest root for vcpu${vcpu}: ${JSON.stringify(roots)}`);
  assert.equal(root.address, TWO_CPUS_CR3[vcpu], 'the program loaded this CR3');
  const shown = await guestRootShown(a);
  assert.deepEqual([shown.root.vcpu, shown.root.address, shown.root.paging], [vcpu, root.address, root.paging], `Page Tables shows ${rowOf(shown).description}`);
  assert.match(rowOf(shown).description ?? '', new RegExp(`^cr3 of vcpu${vcpu} · `));
  // Its entries: what vmem/tableEntries answers for that root (vcpu1 maps one more 4 MiB page).
  const entries = (await a.views.pageTables.getChildren(shown)) ?? [];
  const asked = (await state.session.customRequest('vmem/tableEntries', { vm: 1, kind: 'guest', address: root.address, level: root.level, vcpu })) as TablePayloadWire;
  assert.deepEqual(entries.map((e) => (e.type === 'entry' ? [e.entry.index, e.entry.value] : [e.type])), asked.entries.filter((e) => e.present).map((e) => [e.index, e.value]));
  assert.equal(entries.length, vcpu + 1);

  const tlb = (await state.session.customRequest('vmem/tlb', { vm: 1, vcpu })) as TlbWire;
  assert.equal(tlb.vcpu, vcpu);
  assert.equal(tlb.entries.length, vcpu + 1, 'vcpu1 touched its second page, vcpu0 did not');
  assert.deepEqual(await tlbLabelsShown(a), tlb.entries.map((e) => `0x${e.vpn.toString(16)} → 0x${Math.floor(e.frame / 4096).toString(16)}`).sort(), 'the TLB view lists the selected vCPU\'s entries');

  const text = await waitFor(`the status bar to name vm1/vcpu${vcpu} with its paging mode`, () => {
    const t = a.views.statusBar.item.text;
    return t.includes(`vm1/vcpu${vcpu} ·`) && /32-bit/.test(t) ? t : undefined;
  });
  assert.match(text, new RegExp(`^\\$\\(server-process\\) vm1/vcpu${vcpu} · native · 32-bit$`));
}

describe('the views follow the thread picked in CALL STACK', function () {
  this.timeout(90_000);
  let a: VmemApi;
  let breakpoints: vscode.SourceBreakpoint[] = [];

  before(async () => {
    a = await vmemApi();
  });

  // The stops open sources: leave the editors as the next suite expects them, none open.
  after(async () => vscode.commands.executeCommand('workbench.action.closeAllGroups'));

  afterEach(async () => {
    vscode.debug.removeBreakpoints(breakpoints);
    breakpoints = [];
    await endSession(a);
  });

  it('two vCPUs: picking the other thread moves the state, the guest root, the TLB and the status bar', async () => {
    const program = writeTwoCpus(workspaceFolder().uri.fsPath);
    breakpoints = [new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(program), new vscode.Position(AP_LOOP_LINE - 1, 0)))];
    vscode.debug.addBreakpoints(breakpoints);
    const stopped = nextStop(a);
    assert.ok(await vscode.debug.startDebugging(workspaceFolder(), { type: 'vmem', request: 'launch', name: 'two vCPUs', program, vcpus: 2 }), 'startDebugging');
    const stop = await stopped;
    assert.equal(stop.reason, 'breakpoint');
    // The breakpoint is in vcpu1's loop: the stop and the views start on vcpu1.
    await assertViewsFollow(a, stop, 1);

    let picked = nextState(a.sessions.onDidChangeSelection, (s) => s.vcpu === 0, 'selection of vm1/vcpu0');
    await pickThreadInCallStack(0);
    const first = await picked;
    assert.equal(first.stopCount, stop.stopCount, 'a pick is not a stop');
    await assertViewsFollow(a, first, 0);

    picked = nextState(a.sessions.onDidChangeSelection, (s) => s.vcpu === 1, 'selection of vm1/vcpu1');
    await pickThreadInCallStack(1);
    await assertViewsFollow(a, await picked, 1);
  });
});
