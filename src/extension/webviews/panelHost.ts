// Creates and restores the webview panels: options (scripts on, only dist/webview and media
// loadable, no retained context), the CSP'd HTML shell with a fresh nonce, and a typed channel
// for the panel's messages. One helper for the three panels.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { webviewHtml } from './html';

export interface PanelSpec {
  viewType: string;
  title: string;
  /** The bundle's name: dist/webview/<script>.js. */
  script: string;
  /** Stylesheets under media/webview/ (common.css is always first). */
  styles: string[];
  /** A codicon-like icon for the editor tab, under media/. */
  icon?: string;
}

function roots(context: vscode.ExtensionContext): vscode.Uri[] {
  return [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')];
}

export function panelOptions(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  // retainContextWhenHidden false: a hidden panel costs nothing; it redraws from the host's data when shown.
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: roots(context), enableFindWidget: true };
}

/** Gives a new or restored panel its options, icon and page. */
export function preparePanel(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, spec: PanelSpec): void {
  const webview = panel.webview;
  webview.options = { enableScripts: true, localResourceRoots: roots(context) };
  const asUri = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, ...path)).toString();
  if (spec.icon) panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', spec.icon);
  webview.html = webviewHtml({
    title: spec.title,
    cspSource: webview.cspSource,
    nonce: randomBytes(18).toString('base64'),
    scriptUri: asUri('dist', 'webview', `${spec.script}.js`),
    styleUris: [asUri('dist', 'webview', 'codicon.css'), asUri('media', 'webview', 'common.css'), ...spec.styles.map((s) => asUri('media', 'webview', s))],
  });
}

export function createPanel(context: vscode.ExtensionContext, spec: PanelSpec, column: vscode.ViewColumn = vscode.ViewColumn.Active): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(spec.viewType, spec.title, { viewColumn: column, preserveFocus: false }, panelOptions(context));
  preparePanel(context, panel, spec);
  return panel;
}

/** Typed messages both ways; intents are untrusted JSON until `accept` checks them. */
export class PanelChannel<HostMessage, Intent> implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    accept: (m: unknown) => m is Intent,
    onIntent: (intent: Intent) => void,
  ) {
    this.subscription = panel.webview.onDidReceiveMessage((m: unknown) => {
      if (accept(m)) onIntent(m);
    });
  }

  post(message: HostMessage): void {
    // A disposed or hidden-and-torn-down webview drops the message; `ready` asks again.
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
