// The language features read guest sources the way the debugger will run them: the editor's
// unsaved buffer when the file is open, else the file on disk.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve } from 'node:path';
import type { SourceReader } from './languageIndex';

export const LANGUAGE_ID = 'vmasm';

/** The key a document has in the language model: its file system path (untitled: its URI). */
export function pathOf(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? normalize(uri.fsPath) : uri.toString();
}

export function uriOf(path: string): vscode.Uri {
  return isAbsolute(path) ? vscode.Uri.file(path) : vscode.Uri.parse(path);
}

export class WorkspaceReader implements SourceReader {
  private readonly open = new Map<string, vscode.TextDocument>();

  track(doc: vscode.TextDocument): void {
    this.open.set(pathOf(doc.uri), doc);
  }

  untrack(doc: vscode.TextDocument): void {
    this.open.delete(pathOf(doc.uri));
  }

  document(path: string): vscode.TextDocument | undefined {
    return this.open.get(path);
  }

  read(path: string): string | undefined {
    const doc = this.open.get(path);
    if (doc) return doc.getText();
    if (!isAbsolute(path)) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  resolve(fromFile: string, include: string): string {
    return isAbsolute(include) ? normalize(include) : resolve(isAbsolute(fromFile) ? dirname(fromFile) : '.', include);
  }
}
