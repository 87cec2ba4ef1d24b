// The assembler's view of the files: the editor's unsaved text first, so what the user sees is
// what runs, then the disk.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FileProvider } from '../../engine/isa/assembler';

export function workspaceFiles(open: readonly vscode.TextDocument[] = vscode.workspace.textDocuments): FileProvider {
  const byPath = new Map(open.filter((d) => d.uri.scheme === 'file').map((d) => [d.uri.fsPath, d.getText()]));
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

/** The guest program a command acts on: its argument (a Uri, from a menu), else the active editor's. */
export function targetProgram(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' ? doc.uri : undefined;
}
