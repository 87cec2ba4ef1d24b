// Language support for the guest assembly (language id `vmasm`): diagnostics from the real
// assembler as you type, hovers, go to definition, references, outline and workspace
// symbols. Grammar, snippets and the language configuration are static contributions.
import * as vscode from 'vscode';
import { assemble } from '../../engine/isa/assembler';
import { DiagnosticsEngine } from './diagnosticsEngine';
import { LanguageIndex } from './languageIndex';
import { registerProviders, toVscodeDiagnostic } from './providers';
import { LANGUAGE_ID, WorkspaceReader, pathOf, uriOf } from './workspaceReader';

const SOURCE_GLOB = '**/*.{s,vmasm}';
/** Enough for any course folder; a bigger workspace still works for the files it opens. */
const MAX_WORKSPACE_FILES = 2000;

export interface LanguageSupport extends vscode.Disposable {
  readonly index: LanguageIndex;
  readonly diagnostics: vscode.DiagnosticCollection;
  /** Resolves once the workspace's guest sources are indexed (so includers are known). */
  readonly ready: Promise<void>;
}

const isGuestSource = (doc: vscode.TextDocument): boolean => doc.languageId === LANGUAGE_ID && (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled');

export function registerLanguage(context: vscode.ExtensionContext): LanguageSupport {
  const reader = new WorkspaceReader();
  const index = new LanguageIndex(reader);
  const collection = vscode.languages.createDiagnosticCollection(LANGUAGE_ID);
  const engine = new DiagnosticsEngine(
    index,
    (root) => assemble(root, reader),
    {
      publish(file, diags) {
        const uri = reader.document(file)?.uri ?? uriOf(file);
        if (diags === undefined) return collection.delete(uri);
        const lines = index.text(file)?.split(/\r?\n/) ?? [];
        collection.set(uri, diags.map((d) => toVscodeDiagnostic(d, lines[d.line - 1])));
      },
    },
    { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
  );

  const open = (doc: vscode.TextDocument): void => {
    if (!isGuestSource(doc)) return;
    reader.track(doc);
    engine.opened(pathOf(doc.uri));
  };
  const selector: vscode.DocumentSelector = [{ language: LANGUAGE_ID, scheme: 'file' }, { language: LANGUAGE_ID, scheme: 'untitled' }];
  const watcher = vscode.workspace.createFileSystemWatcher(SOURCE_GLOB);
  const onDisk = (uri: vscode.Uri): void => {
    const path = pathOf(uri);
    if (!reader.document(path)) engine.changed(path);
  };

  const disposables: vscode.Disposable[] = [
    collection,
    watcher,
    { dispose: () => engine.dispose() },
    ...registerProviders(selector, index, engine),
    vscode.workspace.onDidOpenTextDocument(open),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (isGuestSource(e.document) && e.contentChanges.length > 0) engine.changed(pathOf(e.document.uri));
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (!isGuestSource(doc)) return;
      const path = pathOf(doc.uri);
      reader.untrack(doc);
      engine.closed(path);
      // The unsaved text is gone: files that include this one now read it from disk.
      engine.changed(path);
    }),
    watcher.onDidCreate(onDisk),
    watcher.onDidChange(onDisk),
    watcher.onDidDelete(onDisk),
  ];
  vscode.workspace.textDocuments.forEach(open);

  // Index the workspace's sources so a file that is only ever included finds its includer.
  const ready = Promise.resolve(vscode.workspace.findFiles(SOURCE_GLOB, '**/node_modules/**', MAX_WORKSPACE_FILES)).then(
    (uris) => {
      for (const uri of uris) index.update(pathOf(uri));
      for (const f of index.open) engine.changed(f);
    },
    () => undefined,
  );

  const support: LanguageSupport = {
    index,
    diagnostics: collection,
    ready,
    dispose: () => disposables.forEach((d) => d.dispose()),
  };
  context.subscriptions.push(support);
  return support;
}
