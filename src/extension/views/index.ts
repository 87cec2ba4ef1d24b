// The VMem view container's tree views (Page Tables, TLB, Events), their commands, and the
// status bar item, all fed by VmemSessions.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { VMEM_DEBUG_TYPE } from '../session';
import { showAddressTranslation } from '../webviews';
import { EventsProvider } from './events/eventsProvider';
import { PageTablesProvider } from './pageTables/pageTablesProvider';
import { entryGva } from './pageTables/ptModel';
import type { PtNode } from './pageTables/ptModel';
import type { TablesChecked } from './pageTables/pageTablesProvider';
import type { TlbNode } from './tlb/tlbModel';
import type { EventNode } from './events/eventsModel';
import { VmemStatusBar } from './statusBar/vmemStatusBar';
import { observedProvider } from './observedTree';
import type { ChildrenAnswered } from './observedTree';
import { TlbProvider } from './tlb/tlbProvider';

export type { ChildrenAnswered } from './observedTree';
export type { TablesChecked } from './pageTables/pageTablesProvider';

export const VIEW_IDS = { pageTables: 'vmem.pageTables', tlb: 'vmem.tlb', events: 'vmem.events' } as const;
/** True while a vmem debug session exists: the views' welcome texts show only without one. */
export const SESSION_ACTIVE_CONTEXT = 'vmem.sessionActive';

const NOT_PRESENT_SETTING = 'vmem.views.showNonPresent';
const notPresentSetting = (): boolean => vscode.workspace.getConfiguration().get<boolean>(NOT_PRESENT_SETTING, false);

async function setNotPresentSetting(on: boolean): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const inspect = config.inspect<boolean>(NOT_PRESENT_SETTING);
  // Where the user set it, else for the user.
  const target = inspect?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : inspect?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update(NOT_PRESENT_SETTING, on, target);
}

export interface VmemViews {
  pageTables: PageTablesProvider;
  tlb: TlbProvider;
  events: EventsProvider;
  statusBar: VmemStatusBar;
  pageTablesView: vscode.TreeView<PtNode>;
  tlbView: vscode.TreeView<TlbNode>;
  eventsView: vscode.TreeView<EventNode>;
  /** A view's getChildren call answered (children and their TreeItems): when a refresh is done. */
  onDidAnswerChildren: vscode.Event<ChildrenAnswered>;
  /** At a stop, the Page Tables view checked its open tables and redraws only the changed ones (which answers to expect). */
  onDidCheckTables: vscode.Event<TablesChecked>;
}

export function registerViews(context: vscode.ExtensionContext, sessions: VmemSessions): VmemViews {
  const pageTables = new PageTablesProvider(sessions);
  const tlb = new TlbProvider(sessions);
  const events = new EventsProvider(sessions);
  const statusBar = new VmemStatusBar(sessions);
  const answered = new vscode.EventEmitter<ChildrenAnswered>();
  const pageTablesView = vscode.window.createTreeView(VIEW_IDS.pageTables, { treeDataProvider: observedProvider(VIEW_IDS.pageTables, pageTables.forView(), answered), showCollapseAll: true });
  const tlbView = vscode.window.createTreeView(VIEW_IDS.tlb, { treeDataProvider: observedProvider(VIEW_IDS.tlb, tlb, answered), showCollapseAll: true });
  const eventsView = vscode.window.createTreeView(VIEW_IDS.events, { treeDataProvider: observedProvider(VIEW_IDS.events, events, answered), showCollapseAll: true });
  pageTables.attach(pageTablesView);
  tlb.attach(tlbView);
  events.attach(eventsView);
  const setActive = (on: boolean): void => void vscode.commands.executeCommand('setContext', SESSION_ACTIVE_CONTEXT, on);
  const anyVmemSession = (): boolean => sessions.session !== undefined;
  context.subscriptions.push(
    pageTables, tlb, events, statusBar, pageTablesView, tlbView, eventsView, answered,
    vscode.debug.onDidStartDebugSession((s) => {
      if (s.type === VMEM_DEBUG_TYPE) setActive(true);
    }),
    sessions.onDidEnd(() => setActive(anyVmemSession())),
    vscode.commands.registerCommand('vmem.pageTables.revealCurrentWalk', () => pageTables.revealCurrentWalk()),
    // The toggle is the setting vmem.views.showNonPresent, so it survives a reload.
    vscode.commands.registerCommand('vmem.pageTables.showNotPresent', () => setNotPresentSetting(true)),
    vscode.commands.registerCommand('vmem.pageTables.hideNotPresent', () => setNotPresentSetting(false)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(NOT_PRESENT_SETTING)) pageTables.setShowNotPresent(notPresentSetting());
    }),
    vscode.commands.registerCommand('vmem.pageTables.showTranslation', (node?: PtNode) => {
      const gva = node?.type === 'entry' ? entryGva(node) : undefined;
      showAddressTranslation(gva);
    }),
    vscode.commands.registerCommand('vmem.pageTables.copyValue', async (node?: PtNode) => {
      const target = node ?? pageTablesView.selection[0];
      if (target?.type === 'entry') await vscode.env.clipboard.writeText(target.entry.value);
    }),
  );
  setActive(vscode.debug.activeDebugSession?.type === VMEM_DEBUG_TYPE);
  pageTables.setShowNotPresent(notPresentSetting());
  return { pageTables, tlb, events, statusBar, pageTablesView, tlbView, eventsView, onDidAnswerChildren: answered.event, onDidCheckTables: pageTables.onDidCheckTables };
}
