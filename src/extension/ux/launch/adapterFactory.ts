// Where the debug adapter runs (`vmem.debugAdapter.mode`): inline in the extension host (the
// default: no process to start, the session shares nothing with VS Code but messages), as a
// separate node process (dist/debugAdapter.js), or as a server already listening on a port, for
// debugging the adapter itself (`node dist/debugAdapter.js --server=4711`).
import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VmemDebugSession } from '../../../debugAdapter/session';
import { readSettings } from '../settings';

/**
 * VmemDebugSession already speaks the inline protocol (ProtocolServer.handleMessage and
 * onDidSendMessage); this wrapper only gives it vscode's Event type and ties disposal together.
 */
export class InlineVmemAdapter implements vscode.DebugAdapter {
  private readonly session = new VmemDebugSession();
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private readonly subscription: { dispose(): unknown };

  constructor() {
    this.subscription = this.session.onDidSendMessage((m) => this.sent.fire(m));
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    this.session.handleMessage(message as DebugProtocol.ProtocolMessage);
  }

  dispose(): void {
    this.subscription.dispose();
    this.session.dispose();
    this.sent.dispose();
  }
}

export class VmemAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly extensionUri: vscode.Uri) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const s = readSettings(session.workspaceFolder);
    switch (s.adapterMode) {
      case 'process':
        // The extension host's own runtime: node in code-server, Electron-as-node in VS Code.
        return new vscode.DebugAdapterExecutable(process.execPath, [vscode.Uri.joinPath(this.extensionUri, 'dist', 'debugAdapter.js').fsPath], { env: { ELECTRON_RUN_AS_NODE: '1' } });
      case 'server':
        return new vscode.DebugAdapterServer(s.adapterPort, '127.0.0.1');
      default:
        return new vscode.DebugAdapterInlineImplementation(new InlineVmemAdapter());
    }
  }
}
