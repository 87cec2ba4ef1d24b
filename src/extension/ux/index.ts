// The debugging UX, registered in one call from activate: the `vmem` configuration provider and
// adapter factory, inline values for guest assembly, the commands Translate Address, Compare
// Modes, Run Headless, the walkthrough's commands, and the ways to a gva's translation from the
// debugger: the Debug Console's `translate`, the addresses it printed, a variable's context menu.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { VmemAdapterFactory } from './launch/adapterFactory';
import { VmemConfigurationProvider, VmemDynamicConfigurationProvider } from './launch/configProvider';
import { VmemInlineValuesProvider } from './inline/inlineValues';
import { compareModes, REPORT_SCHEME, ReportDocuments } from './commands/compareModes';
import { runHeadless } from './commands/runHeadless';
import { translateAddress } from './commands/translateAddress';
import { variableTarget } from './commands/variableTranslation';
import { AddressHistory } from './console/addressHistory';
import { ConsoleAddressTrackerFactory } from './console/consoleTracker';
import { followConsoleTranslations } from './console/consoleTranslations';
import { showAddressTranslation } from '../webviews';
import { debugStep, openExample } from './walkthrough/walkthroughCommands';
import type { UxSessions } from './sessionsPort';

/** Guest assembly documents, saved or not (the language engineer's language id). */
const VMASM: vscode.DocumentSelector = [{ language: 'vmasm' }];

export function registerUx(context: vscode.ExtensionContext, vmemSessions: VmemSessions): void {
  const sessions: UxSessions = vmemSessions;
  const output = vscode.window.createOutputChannel('VMem');
  const reports = new ReportDocuments();
  const inline = new VmemInlineValuesProvider(sessions);
  const provider = new VmemConfigurationProvider();
  const consoleAddresses = new AddressHistory();
  context.subscriptions.push(
    output,
    vscode.debug.registerDebugConfigurationProvider('vmem', provider, vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugConfigurationProvider('vmem', new VmemDynamicConfigurationProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('vmem', new VmemAdapterFactory(context.extensionUri)),
    vscode.languages.registerInlineValuesProvider(VMASM, inline),
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('vmem.inlineValues')) inline.refresh();
    }),
    vscode.debug.registerDebugAdapterTrackerFactory('vmem', new ConsoleAddressTrackerFactory(consoleAddresses)),
    followConsoleTranslations(sessions),
    vscode.commands.registerCommand('vmem.translateAddress', (arg?: unknown) => translateAddress(sessions, consoleAddresses, arg)),
    vscode.commands.registerCommand('vmem.showVariableTranslation', (arg?: unknown) => showVariableTranslation(sessions, arg)),
    vscode.commands.registerCommand('vmem.compareModes', (arg?: unknown) => compareModes(reports, arg)),
    vscode.commands.registerCommand('vmem.runHeadless', (arg?: unknown) => runHeadless(output, arg)),
    vscode.commands.registerCommand('vmem.openExample', (name: unknown) => openExample(context.extensionUri, name)),
    vscode.commands.registerCommand('vmem.walkthrough.debugStep', (id: unknown) => debugStep(context.extensionUri, id)),
  );
}

/** VARIABLES' "Show Address Translation": the variable's gva, walked as the stop's access when it is the stop's address. */
function showVariableTranslation(sessions: UxSessions, arg: unknown): string | undefined {
  const t = variableTarget(arg);
  if (!t) {
    void vscode.window.showWarningMessage('VMem: this variable does not hold a guest-virtual address.');
    return undefined;
  }
  const st = sessions.state;
  const access = t.access ?? (st?.focusAddress === t.gva ? st.focusAccess : undefined);
  showAddressTranslation(t.gva, access ? { access } : undefined);
  return t.gva;
}
