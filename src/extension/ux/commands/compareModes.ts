// "VMem: Compare Modes": the program run headless in every mode its header allows, in a
// cancellable progress notification, the result opened as a read-only markdown preview. The
// command returns the report's text (for tests and for other extensions).
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { assemble } from '../../../engine/isa/assembler';
import { programModes } from '../launch/programModes';
import { targetProgram, workspaceFiles } from '../workspaceFiles';
import { comparisonMarkdown, runComparison } from './comparison';

export const REPORT_SCHEME = 'vmem-report';

/** Reports as read-only documents: `vmem-report:/Compare hello.s.md`. */
export class ReportDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}.md` });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }
}

export async function compareModes(reports: ReportDocuments, arg?: unknown): Promise<string | undefined> {
  const uri = targetProgram(arg);
  if (!uri || !/\.(s|vmasm)$/i.test(uri.fsPath)) {
    void vscode.window.showWarningMessage('VMem: Compare Modes runs a guest program (.s, .vmasm): open one first.');
    return undefined;
  }
  const files = workspaceFiles();
  const choices = programModes(files.read(uri.fsPath) ?? '');
  const name = basename(uri.fsPath);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VMem: comparing ${name} in ${choices.length} modes`, cancellable: true },
    (progress, token) => {
      let last = -1;
      return runComparison(
        (defines) => {
          const r = assemble(uri.fsPath, files, { defines: Object.fromEntries(Object.entries(defines).map(([k, v]) => [k, BigInt(v)])) });
          if (r.ok) return r;
          const d = r.diagnostics.find((x) => x.severity === 'error');
          return d ? `${basename(d.file)}:${d.line}: ${d.message}` : 'assembly failed';
        },
        choices,
        {
          cancelled: () => token.isCancellationRequested,
          progress: (i, c, icount) => {
            const step = i === last ? 0 : 100 / choices.length;
            last = i;
            progress.report({ increment: step, message: `${c.name}: ${icount.toLocaleString('en-US')} instructions` });
          },
          pause: () => new Promise((r) => setImmediate(r)),
        },
      );
    },
  );
  if (!result) return undefined;
  const text = comparisonMarkdown(name, result);
  const doc = reports.set(`Compare modes — ${name}`, text);
  try {
    await vscode.commands.executeCommand('markdown.showPreview', doc);
  } catch {
    // No markdown preview (the built-in extension disabled): the source is readable too.
    await vscode.window.showTextDocument(doc, { preview: true });
  }
  return text;
}
