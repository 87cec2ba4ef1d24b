// What a step costs in requests, counted at the adapter's door (a debug adapter tracker): the
// stop itself is known from the adapter's `stopped` + `vmem/stopped` events (no threads or
// vmem/context asked), the Page Tables view reads every open table in ONE `vmem/tables` request
// (no `vmem/tableEntries` for them: the workbench's getChildren calls, level after level, are
// answered from it), the TLB view one `vmem/tlb`, and a hidden view nothing at all.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TableEntriesArgs } from '../../src/debugAdapter/viewsProtocol';
import type { StopState } from '../../src/extension/session';
import type { PtNode } from '../../src/extension/views/pageTables/ptModel';
import type { TablesChecked } from '../../src/extension/views';
import { waitFor, workspaceFolder } from './hostHelpers';
import { debugTo, endSession, nextStop, vmemApi } from './vmemSession';
import type { VmemApi } from './vmemSession';

const VIEW = 'vmem.pageTables';
const QUIET_MS = 600;

interface Asked {
  command: string;
  args: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

describe('requests per stop', function () {
  this.timeout(120_000);
  let a: VmemApi;
  let asked: Asked[] = [];
  let answeredAt = 0;
  /** Page Tables answers so far, and their node ids. */
  let ptAnswers = 0;
  let ptAnswered: string[] = [];
  let checks: TablesChecked[] = [];
  const subs: vscode.Disposable[] = [];

  before(async () => {
    a = await vmemApi();
    subs.push(
      vscode.debug.registerDebugAdapterTrackerFactory('vmem', {
        createDebugAdapterTracker: () => ({
          onWillReceiveMessage: (m: unknown) => {
            const r = m as { type?: unknown; command?: unknown; arguments?: unknown };
            if (r.type === 'request' && typeof r.command === 'string') asked.push({ command: r.command, args: r.arguments });
          },
        }),
      }),
      a.views.onDidAnswerChildren((e) => {
        answeredAt = Date.now();
        if (e.viewId !== VIEW) return;
        ptAnswers++;
        ptAnswered.push(e.nodeId ?? '<root>');
      }),
      a.views.onDidCheckTables((e) => {
        answeredAt = Date.now();
        checks.push(e);
      }),
    );
  });

  after(async () => {
    subs.forEach((d) => d.dispose());
    await vscode.commands.executeCommand('workbench.action.closeAllGroups');
  });

  afterEach(async () => endSession(a));

  /** Waits for the Page Tables view to answer (unless `hidden`), then until the views have answered nothing for QUIET_MS. */
  async function quiet(since: number, hidden: boolean, checked: number): Promise<void> {
    if (!hidden) await waitFor('the Page Tables view to redraw or check its tables', () => (ptAnswers > since || checks.length > checked ? true : undefined), 30_000);
    else await sleep(QUIET_MS);
    await waitFor('the views to go quiet', () => (Date.now() - answeredAt >= QUIET_MS ? true : undefined), 30_000);
  }

  /** Steps over; returns the stop and what was asked from the step on, once the views are quiet. */
  async function step(stop: StopState, hidden = false): Promise<{ stop: StopState; asked: Asked[] }> {
    asked = [];
    ptAnswered = [];
    const since = ptAnswers;
    const checked = checks.length;
    const next = nextStop(a, (s) => s.stopCount > stop.stopCount);
    await stop.session.customRequest('next', { threadId: stop.threadId });
    const s = await next;
    await quiet(since, hidden, checked);
    return { stop: s, asked: asked.filter((r) => r.command.startsWith('vmem/') || r.command === 'threads') };
  }

  const count = (list: Asked[], command: string): number => list.filter((r) => r.command === command).length;
  const tablesAsked = (list: Asked[]): TableEntriesArgs[] => list.filter((r) => r.command === 'vmem/tables').flatMap((r) => (r.args as { tables: TableEntriesArgs[] }).tables);
  const key = (t: { kind: string; address: number; level: number }): string => `${t.kind}:${t.address}:${t.level}`;

  it('one vmem/tables for every open table, no vmem/tableEntries, no threads or vmem/context; nothing while hidden', async () => {
    const program = join(workspaceFolder().uri.fsPath, 'two-processes.s');
    let stop = await debugTo(a, { program, mode: 'shadow' }, ['pf-hidden'], (s) => s.reason === 'exception');
    await vscode.commands.executeCommand('workbench.view.extension.vmem');
    await vscode.commands.executeCommand(`${VIEW}.focus`);
    await vscode.commands.executeCommand('vmem.tlb.focus');
    const view = a.views.pageTablesView;
    await waitFor('the Page Tables and TLB views to be visible', () => (view.visible && a.views.tlbView.visible ? true : undefined));
    await vscode.commands.executeCommand(`workbench.actions.treeView.${VIEW}.collapseAll`);
    const expanded: PtNode[] = [];
    const sub = view.onDidExpandElement((e) => expanded.push(e.element));
    try {
      const since = ptAnswers;
      await vscode.commands.executeCommand('vmem.pageTables.revealCurrentWalk');
      await waitFor('Reveal Current Walk to select an entry', () => (view.selection[0]?.type === 'entry' ? true : undefined));
      await quiet(since, false, checks.length);
    } finally {
      sub.dispose();
    }
    // The tables the walk opened: the guest and shadow roots and the walks' non-leaf entries.
    const open = new Set(expanded.flatMap((n) => (n.type === 'root' ? [key(n.table)] : n.type === 'entry' && n.child ? [key(n.child)] : [])));
    assert.ok(open.size >= 4, `Reveal Current Walk opened ${open.size} tables`);

    let r = await step(stop);
    stop = r.stop;
    assert.equal(count(r.asked, 'vmem/tables'), 1, `requests at the stop: ${r.asked.map((x) => x.command).join(', ')}`);
    assert.deepEqual(new Set(tablesAsked(r.asked).map(key)), open, 'vmem/tables asked exactly the open tables');
    assert.equal(count(r.asked, 'vmem/tableEntries'), 0, 'no table asked on its own');
    assert.equal(count(r.asked, 'vmem/context'), 0, 'the stop came with its context (vmem/stopped)');
    assert.equal(count(r.asked, 'threads'), 1, 'only the workbench\'s own threads request');
    assert.equal(count(r.asked, 'vmem/tlb'), 1, 'the TLB view: one request');
    assert.equal(count(r.asked, 'vmem/tableRoots'), 1, 'the roots: one request (shared with the status bar)');
    // (That stop may redraw the whole tree: Collapse All before the reveal collapsed nodes whose
    // rows VS Code still caches, and only a whole redraw makes it ask for them again.)
    // From then on each stop's open tables are checked against what the view shows and only the
    // changed ones redrawn: the view is asked for exactly the tables the check names, never for
    // the rows above them.
    for (let i = 0; i < 4; i++) {
      r = await step(stop);
      stop = r.stop;
      const c = checks[checks.length - 1];
      assert.ok(c && c.stopCount === stop.stopCount, `stop ${stop.stopCount}: its tables were checked`);
      assert.deepEqual([...ptAnswered].sort(), [...c.expect].sort(), `redrew ${c.redrawn.join(', ') || 'nothing'}`);
      assert.ok(c.expect.every((id) => !['<root>', 'pt/1'].includes(id)));
      assert.equal(count(r.asked, 'vmem/tables'), 1);
      assert.equal(count(r.asked, 'vmem/tableEntries'), 0);
    }

    // Hidden: no request of the Page Tables view at all; shown again: one vmem/tables.
    await vscode.commands.executeCommand('workbench.view.explorer');
    await waitFor('the Page Tables view to be hidden', () => (!view.visible ? true : undefined));
    r = await step(stop, true);
    stop = r.stop;
    assert.equal(count(r.asked, 'vmem/tables') + count(r.asked, 'vmem/tableEntries') + count(r.asked, 'vmem/tlb'), 0, `while hidden: ${r.asked.map((x) => x.command).join(', ')}`);
    asked = [];
    const since = ptAnswers;
    await vscode.commands.executeCommand('workbench.view.extension.vmem');
    await waitFor('the Page Tables view to be visible again', () => (view.visible ? true : undefined));
    await quiet(since, false, checks.length);
    const shown = asked.filter((x) => x.command.startsWith('vmem/'));
    assert.equal(count(shown, 'vmem/tables'), 1, `on showing: ${shown.map((x) => x.command).join(', ')}`);
    assert.equal(count(shown, 'vmem/tableEntries'), 0);
  });
});
