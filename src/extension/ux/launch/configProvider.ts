// The `vmem` DebugConfigurationProvider: F5 on an open guest program with no launch.json, the Run
// and Debug dropdown's "Debug X in shadow mode" entries, defaults from the settings, and a clear
// error (with a way to launch.json) instead of a session that fails to launch. The decisions live
// in debugConfig.ts; this file only reads the editor and the settings and shows messages.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { readSettings } from '../settings';
import type { VmemConfig } from './debugConfig';
import { checkConfig, configForFile, dynamicConfigs, programKind, withDefaults } from './debugConfig';

function activeGuestDocument(): vscode.TextDocument | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' && programKind(doc.uri.fsPath) !== undefined ? doc : undefined;
}

/** Whether a configuration of this name is written in the folder's launch.json (or the workspace's). */
function inLaunchJson(folder: vscode.WorkspaceFolder | undefined, name: unknown): boolean {
  const list = vscode.workspace.getConfiguration('launch', folder).get<unknown[]>('configurations', []);
  return Array.isArray(list) && list.some((c) => typeof c === 'object' && c !== null && (c as { name?: unknown }).name === name);
}

async function reportBadConfig(message: string, folder: vscode.WorkspaceFolder | undefined, config: VmemConfig): Promise<void> {
  const text = `VMem: cannot start "${String(config.name ?? 'vmem')}": ${message}`;
  if (!inLaunchJson(folder, config.name)) {
    void vscode.window.showErrorMessage(text);
    return;
  }
  const open = 'Open launch.json';
  const pick = await vscode.window.showErrorMessage(text, open);
  if (pick === open) await vscode.commands.executeCommand('workbench.action.debug.configure');
}

export class VmemConfigurationProvider implements vscode.DebugConfigurationProvider {
  /** launch.json creation: the open guest program (when there is one) and the generic `${file}` entry. */
  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    const doc = activeGuestDocument();
    const out: vscode.DebugConfiguration[] = [];
    if (doc) {
      const rel = folder ? vscode.workspace.asRelativePath(doc.uri, false) : undefined;
      const path = folder && rel && rel !== doc.uri.fsPath ? `\${workspaceFolder}/${rel}` : doc.uri.fsPath;
      out.push(configForFile(path) as vscode.DebugConfiguration);
    }
    out.push({ type: 'vmem', request: 'launch', name: 'Debug the open guest program', program: '${file}', stopOnEntry: true });
    return out;
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const doc = activeGuestDocument();
    const s = readSettings(_folder);
    const r = withDefaults(config, { activeFile: doc?.uri.fsPath, activeSource: doc?.getText(), defaultMode: s.defaultMode, logEvents: s.logEvents });
    if (!r.ok) {
      void vscode.window.showErrorMessage(r.message);
      return undefined;
    }
    return r.config as vscode.DebugConfiguration;
  }

  /**
   * Last look before the adapter starts. A bad configuration returns undefined (no session) with
   * the adapter's own message and, when it comes from launch.json, a button to open it; returning
   * null would open launch.json unasked, and create one where F5 needed none.
   */
  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const r = checkConfig(config, folder?.uri.fsPath, existsSync);
    if (!r.ok || !r.config) {
      await reportBadConfig(r.message ?? 'invalid configuration', folder, config);
      return undefined;
    }
    return r.config as vscode.DebugConfiguration;
  }
}

/** One entry per mode for each guest program open in a visible editor. */
export class VmemDynamicConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    const seen = new Set<string>();
    const out: vscode.DebugConfiguration[] = [];
    const docs = [vscode.window.activeTextEditor?.document, ...vscode.window.visibleTextEditors.map((e) => e.document)];
    for (const d of docs) {
      if (!d || d.uri.scheme !== 'file' || seen.has(d.uri.fsPath)) continue;
      seen.add(d.uri.fsPath);
      out.push(...(dynamicConfigs(d.uri.fsPath, d.getText()) as vscode.DebugConfiguration[]));
    }
    return out;
  }
}
