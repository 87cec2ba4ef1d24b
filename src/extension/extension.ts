// VS Code host side. For now one command runs the active guest program headless and shows
// the run's summary; the debugger, views and language support arrive with their issues.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { assemble } from '../engine/isa/assembler';
import type { FileProvider } from '../engine/isa/assembler';
import { runProgram } from '../engine/runner';
import { formatSummary } from '../engine/summaryText';

function workspaceFiles(open: readonly vscode.TextDocument[]): FileProvider {
  // Prefer the editor's unsaved text, so what the user sees is what runs.
  const byPath = new Map(open.map((d) => [d.uri.fsPath, d.getText()]));
  return {
    read: (path) => {
      const text = byPath.get(path);
      if (text !== undefined) return text;
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    resolve: (from, include) => resolve(dirname(from), include),
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('VMem');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('vmem.runHeadless', () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc) {
        void vscode.window.showWarningMessage('VMem: open a guest program (.s) first.');
        return;
      }
      const result = assemble(doc.uri.fsPath, workspaceFiles(vscode.workspace.textDocuments));
      output.clear();
      output.show(true);
      for (const d of result.diagnostics) output.appendLine(`${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
      if (!result.ok) return;
      const summary = runProgram(result, {});
      output.append(formatSummary(vscode.workspace.asRelativePath(doc.uri), summary));
    }),
  );
}

export function deactivate(): void {
  // Nothing to release: runs are synchronous and own no resources.
}
