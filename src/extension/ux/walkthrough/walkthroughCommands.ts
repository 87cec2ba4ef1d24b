// The walkthrough's buttons. `vmem.walkthrough.debugStep` opens a step's example and starts it
// stopped on entry in the step's mode, marks the step done (its completionEvents wait on a context
// key), shows what to look at, and reveals BREAKPOINTS when the step needs an event filter ticked:
// VS Code has no API to tick an exception filter for the user. `vmem.openExample` opens one.
//
// Examples open where they are: a workspace that has examples/ (this repository) or is a copy of
// it (a course folder) uses its own; otherwise the copy shipped inside the extension — breakpoints
// in files outside the workspace work, and nothing is written into the user's folders.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { filterById } from '../../../debugAdapter/runtime/eventFilters';
import { stepById, stepContextKey } from './steps';
import type { WalkthroughStep } from './steps';

export function exampleUri(extensionUri: vscode.Uri, name: string): vscode.Uri {
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme !== 'file') continue;
    const inExamples = vscode.Uri.joinPath(f.uri, 'examples', name);
    if (existsSync(inExamples.fsPath)) return inExamples;
    // The folder is a copy of examples/ itself (it has the teaching kernel beside the programs).
    const direct = vscode.Uri.joinPath(f.uri, name);
    if (existsSync(direct.fsPath) && existsSync(vscode.Uri.joinPath(f.uri, 'kernel', 'kernel.s').fsPath)) return direct;
  }
  return vscode.Uri.joinPath(extensionUri, 'examples', name);
}

export async function openExample(extensionUri: vscode.Uri, name: unknown): Promise<vscode.TextEditor | undefined> {
  if (typeof name !== 'string' || !/^[\w.-]+\.(s|json)$/.test(name)) {
    void vscode.window.showErrorMessage(`VMem: no example named ${JSON.stringify(name)}`);
    return undefined;
  }
  const uri = exampleUri(extensionUri, name);
  if (!existsSync(uri.fsPath)) {
    void vscode.window.showErrorMessage(`VMem: example ${name} not found at ${uri.fsPath}`);
    return undefined;
  }
  return vscode.window.showTextDocument(uri, { preview: false });
}

function launchConfig(step: WalkthroughStep, program: string): vscode.DebugConfiguration {
  const cfg: vscode.DebugConfiguration = { type: 'vmem', request: 'launch', name: `${step.example} (${step.mode}${step.shadowSync ? ', unsync' : ''})`, program, mode: step.mode, stopOnEntry: true };
  if (step.shadowSync) cfg.shadowSync = step.shadowSync;
  return cfg;
}

export async function debugStep(extensionUri: vscode.Uri, id: unknown): Promise<boolean> {
  const step = typeof id === 'string' ? stepById(id) : undefined;
  if (!step) {
    void vscode.window.showErrorMessage(`VMem: no walkthrough step ${JSON.stringify(id)}`);
    return false;
  }
  const editor = await openExample(extensionUri, step.example);
  if (!editor) return false;
  const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
  const started = await vscode.debug.startDebugging(folder, launchConfig(step, editor.document.uri.fsPath));
  if (!started) return false;
  await vscode.commands.executeCommand('setContext', stepContextKey(step.id), true);
  if (step.filters.length > 0) await vscode.commands.executeCommand('workbench.debug.action.focusBreakpointsView');
  const labels = step.filters.map((f) => `"${filterById(f)?.label ?? f}"`);
  void vscode.window.showInformationMessage(labels.length ? `${step.hint} (filters: ${labels.join(', ')})` : step.hint);
  return true;
}
