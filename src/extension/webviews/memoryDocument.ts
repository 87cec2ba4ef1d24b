// Opens a memory reference (a machine frame, a guest table) in VS Code. VS Code's own memory
// view is the Hex Editor extension opened on a `vscode-debug-memory:` URI through the command
// the VARIABLES view's "View Binary Data" runs; without that extension (or offline, where VS Code
// cannot install it) we show a read-only hex dump from the adapter's readMemory instead, and say so.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { isMemoryReference } from '../../webview/shared/messages';
import { hexDump, referenceAddress } from './hexDump';

const HEX_EDITOR = 'ms-vscode.hexeditor';
const VIEW_MEMORY_COMMAND = 'workbench.debug.viewlet.action.viewMemory';
export const DUMP_SCHEME = 'vmem-memory';
/** One page: a frame or a paging structure. */
const DUMP_BYTES = 4096;

interface ReadMemoryBody {
  address: string;
  unreadableBytes?: number;
  data?: string;
}

export async function openMemoryReference(sessions: VmemSessions, reference: string, label: string): Promise<void> {
  const session = sessions.session;
  if (!session || !isMemoryReference(reference)) {
    void vscode.window.showWarningMessage('VMem: start a vmem debug session to look at memory.');
    return;
  }
  if (vscode.extensions.getExtension(HEX_EDITOR)) {
    await vscode.commands.executeCommand(VIEW_MEMORY_COMMAND, { sessionId: session.id, variable: { name: label, value: reference, variablesReference: 0, memoryReference: reference } });
    return;
  }
  const uri = vscode.Uri.from({ scheme: DUMP_SCHEME, path: `/${label.replace(/[\\/:*?"<>|]/g, '_')}.hexdump`, query: new URLSearchParams({ session: session.id, ref: reference }).toString() });
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** Serves the read-only dumps, re-read at every stop while they are open. */
export class MemoryDumpProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: VmemSessions) {
    this.subscription = sessions.onDidStop(() => {
      for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === DUMP_SCHEME) this.changed.fire(d.uri);
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const ref = q.get('ref') ?? '';
    const session = this.sessions.session;
    const base = referenceAddress(ref);
    const header = [
      `# ${ref} — ${DUMP_BYTES} bytes, read ${this.sessions.state ? `at stop ${this.sessions.state.stopCount}` : 'while not stopped'}`,
      `# A read-only dump from the adapter's readMemory: install the Hex Editor extension (${HEX_EDITOR}) to use VS Code's memory view instead.`,
      '',
    ];
    if (!session || session.id !== q.get('session') || base === undefined) return header.concat('(the debug session that owned this memory has ended)').join('\n');
    try {
      const body = (await session.customRequest('readMemory', { memoryReference: ref, offset: 0, count: DUMP_BYTES })) as ReadMemoryBody;
      const bytes = body.data ? Uint8Array.from(Buffer.from(body.data, 'base64')) : new Uint8Array();
      return header.concat(hexDump(base, bytes, body.unreadableBytes ?? 0)).join('\n') + '\n';
    } catch (e) {
      return header.concat(`(readMemory failed: ${e instanceof Error ? e.message : String(e)})`).join('\n');
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
