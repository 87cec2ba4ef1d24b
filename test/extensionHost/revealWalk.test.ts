// "Reveal Current Walk" (the Page Tables view's title command) at hidden page faults: the tree
// items it expands and selects are exactly the entries `vmem/walk` reports for the fault's gva —
// the guest chain (PML4E → PDPTE → PDE, → PTE for a 4 KiB page) with its last entry selected,
// and the shadow table's chain revealed beside it. The view is collapsed first, so every
// expansion seen is the command's.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TranslationWire } from '../../src/debugAdapter/viewsProtocol';
import type { StopState } from '../../src/extension/session';
import type { EntryNode, PtNode } from '../../src/extension/views/pageTables/ptModel';
import { rowOf } from '../../src/extension/views/pageTables/ptModel';
import { walkPaths } from '../../src/extension/views/pageTables/walkPath';
import { waitFor, workspaceFolder } from './hostHelpers';
import { debugTo, endSession, nextStop, vmemApi } from './vmemSession';
import type { VmemApi } from './vmemSession';

const VIEW = 'vmem.pageTables';
/** At most this many hidden faults are visited looking for a 4-level walk. */
const FAULTS = 8;

/** The entry chain from the table root down to `leaf`: each entry's (table address, index, level name). */
function chainOf(leaf: EntryNode): EntryNode[] {
  const out: EntryNode[] = [];
  for (let n: PtNode | undefined = leaf; n?.type === 'entry'; n = n.parent) out.unshift(n);
  return out;
}

const stepsOf = (chain: EntryNode[]): [number, number, string][] => chain.map((e) => [e.table.address, e.entry.index, e.levelName]);

describe('Reveal Current Walk', function () {
  this.timeout(90_000);
  let a: VmemApi;

  before(async () => {
    a = await vmemApi();
  });

  // The stops open sources: leave the editors as the next suite expects them, none open.
  after(async () => vscode.commands.executeCommand('workbench.action.closeAllGroups'));

  afterEach(async () => endSession(a));

  /** Runs the command at `stop` and checks what it expanded and selected; returns the guest walk's level names. */
  async function revealAndCheck(stop: StopState): Promise<string[]> {
    const gva = stop.focusAddress;
    assert.ok(gva, 'a hidden-fault stop has a focus address');
    assert.equal(BigInt(gva), BigInt(/gva (0x[0-9a-f]+)/.exec(stop.description ?? '')?.[1] ?? '-1'), 'the focus address is the fault\'s');

    await vscode.commands.executeCommand(`${VIEW}.focus`);
    const view = a.views.pageTablesView;
    await waitFor('the Page Tables view to be visible', () => (view.visible ? true : undefined));
    await vscode.commands.executeCommand(`workbench.actions.treeView.${VIEW}.collapseAll`);
    const before = view.selection[0];
    const expanded: PtNode[] = [];
    const sub = view.onDidExpandElement((e) => expanded.push(e.element));
    let selected: readonly PtNode[];
    try {
      await vscode.commands.executeCommand('vmem.pageTables.revealCurrentWalk');
      selected = await waitFor(`a new selection in the Page Tables view for ${gva}`, () => (view.selection.length > 0 && view.selection[0] !== before ? view.selection : undefined));
    } finally {
      sub.dispose();
    }

    const walk = (await stop.session.customRequest('vmem/walk', { vm: stop.vm, vcpu: stop.vcpu, gva, access: stop.focusAccess })) as TranslationWire;
    const guestLevels = walk.guest.levels.map((l): [number, number, string] => [l.tableAddress, l.index, l.name]);
    assert.ok(walk.guest.levels.every((l) => l.flags.p), `the guest maps ${gva}: a hidden fault is the VMM's alone`);

    // The selection: one guest entry, the walk's last, whose chain from the root is the guest walk.
    assert.equal(selected.length, 1);
    const leaf = selected[0];
    assert.ok(leaf.type === 'entry', `selected a ${leaf.type}`);
    const chain = chainOf(leaf);
    const names = chain.map((e) => rowOf(e).label).join(' → ');
    assert.equal(leaf.table.kind, 'guest', `selected ${names}`);
    assert.deepEqual(stepsOf(chain), guestLevels, `${gva}: selected ${names}`);
    assert.equal(leaf.entry.leaf, true, `the selected ${leaf.levelName} entry maps a page`);
    assert.equal(BigInt(leaf.entry.value), BigInt(walk.guest.levels[walk.guest.levels.length - 1].entry), 'its value is the walk\'s');
    assert.ok(leaf.entry.maps.from <= Number(gva) && Number(gva) <= leaf.entry.maps.to, `${names} maps ${gva}`);

    // What was expanded: per table kind, exactly the walk's non-leaf entries (the leaf has no child).
    const entriesExpanded = expanded.filter((n): n is EntryNode => n.type === 'entry');
    assert.ok(walk.shadow?.walk, 'shadow mode reports the shadow walk');
    for (const path of walkPaths(walk)) {
      const mine = entriesExpanded.filter((e) => e.table.kind === path.kind).sort((x, y) => chainOf(x).length - chainOf(y).length);
      const want = path.steps.slice(0, -1).map((s) => [s.tableAddress, s.index]);
      assert.deepEqual(mine.map((e) => [e.table.address, e.entry.index]), want, `${gva}: ${path.kind} entries expanded: ${mine.map((e) => rowOf(e).label).join(' | ')}`);
    }
    assert.deepEqual([...new Set(entriesExpanded.map((e) => e.table.kind))].sort(), ['guest', 'shadow'], 'both the guest and the shadow walks are revealed');
    // Nothing but the walks' ancestors: VM, kind rows, the walks' roots and entries.
    for (const n of expanded) {
      assert.ok(['vm', 'group', 'root', 'entry'].includes(n.type), `expanded a ${n.type}`);
      if (n.type === 'root') assert.ok(walkPaths(walk).some((p) => p.kind === n.root.kind && p.steps[0].tableAddress === n.root.address), `expanded root ${rowOf(n).label} is not on the walk`);
    }
    return guestLevels.map((l) => l[2]);
  }

  it('at each of the first hidden faults in shadow mode: expands and selects exactly the walk of the fault\'s gva', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-processes.s');
    let stop = await debugTo(a, { program, mode: 'shadow' }, ['pf-hidden'], (s) => s.reason === 'exception');
    const seen: string[] = [];
    // The kernel's first faults are on 2 MiB pages (PML4E → PDPTE → PDE); process A's code at
    // 0x400000 is a 4 KiB page (… → PTE). Check every stop until that one.
    for (let i = 0; i < FAULTS; i++) {
      const levels = await revealAndCheck(stop);
      seen.push(`${stop.focusAddress}: ${levels.join('→')}`);
      if (levels.length === 4) break;
      const next = nextStop(a, (s) => s.stopCount > stop.stopCount);
      await stop.session.customRequest('continue', { threadId: stop.threadId });
      stop = await next;
      assert.equal(stop.reason, 'exception');
    }
    assert.ok(seen.some((s) => s.endsWith('PML4→PDPT→PD→PT')), `no fault with a PTE among ${seen.join('; ')}`);
  });
});
