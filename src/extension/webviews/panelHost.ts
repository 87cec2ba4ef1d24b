// Creates and restores the webview panels: options (scripts on, only dist/webview and media
// loadable, no retained context), the CSP'd HTML shell with a fresh nonce (loaded again when its
// script does not start), and a typed channel for the panel's messages. One helper for the
// three panels.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { scriptFailedHtml, webviewHtml } from './html';
import { LoadWatchdog } from './loadWatchdog';
import { hasType } from '../../webview/shared/messages';
import type { ReadyIntent } from '../../webview/shared/messages';

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

/**
 * Gives a new or restored panel its options, icon and page, and keeps the page alive: when its
 * script does not say `ready` in time the page is loaded again (see loadWatchdog.ts), and after
 * the last try a text-only page says what failed. Ends with the panel.
 */
export function preparePanel(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, spec: PanelSpec): void {
  const webview = panel.webview;
  webview.options = { enableScripts: true, localResourceRoots: roots(context) };
  if (spec.icon) panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', spec.icon);
  let failed = false;
  const load = (): void => {
    failed = false;
    webview.html = pageFor(context, webview, spec);
  };
  const watchdog = new LoadWatchdog({
    reload: (attempt) => {
      // First the page again (its frame was left without the worker); then a new webview (its
      // outer frame missed the worker's controllerchange and will never inject any page).
      const fresh = recreators.get(panel);
      if (attempt >= 2 && fresh && fresh.left > 0) {
        console.warn(`VMem: the ${spec.title} panel's webview never loaded a page; opening a new one in its place`);
        fresh.recreate();
        return;
      }
      console.warn(`VMem: the ${spec.title} panel's script did not start; loading its page again (try ${attempt})`);
      load();
    },
    giveUp: () => {
      console.error(`VMem: the ${spec.title} panel's script never started; showing the failure page`);
      failed = true;
      webview.html = scriptFailedHtml(spec.title);
    },
  });
  let visible = panel.visible;
  const subscriptions = [
    webview.onDidReceiveMessage((m: unknown) => {
      if (hasType<ReadyIntent>(m, 'ready')) watchdog.ready();
    }),
    // retainContextWhenHidden is off: hiding tears the page down, showing loads it again.
    panel.onDidChangeViewState(() => {
      if (panel.visible === visible) return;
      visible = panel.visible;
      if (!visible) watchdog.cancel();
      else {
        if (failed) load();
        watchdog.expect();
      }
    }),
  ];
  panel.onDidDispose(() => {
    watchdog.dispose();
    subscriptions.forEach((d) => d.dispose());
  });
  load();
  // A restored panel in a background tab loads nothing until it is shown.
  if (visible) watchdog.expect();
}

/** How many times in a row a stuck panel is replaced by a new one before the failure page. */
export const MAX_RECREATIONS = 2;

const recreators = new WeakMap<vscode.WebviewPanel, { left: number; recreate: () => void }>();

/**
 * How to replace `panel` by a new webview panel in its place when its webview never starts
 * (`left` more times). Without it the watchdog only loads the page again.
 */
export function recreateWhenStuck(panel: vscode.WebviewPanel, left: number, recreate: () => void): void {
  recreators.set(panel, { left, recreate });
}

/** The page with a fresh nonce (each load is a new document, so a reload is never a no-op). */
function pageFor(context: vscode.ExtensionContext, webview: vscode.Webview, spec: PanelSpec): string {
  const asUri = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, ...path)).toString();
  return webviewHtml({
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

/** A message a panel's host posted to its webview (what the extension-host benchmark times). */
export interface PanelMessagePosted {
  /** The panel's view type, e.g. vmem.addressTranslation. */
  viewType: string;
  /** The message's `type` (e.g. translation, frameMap, events, phase). */
  type: string | undefined;
  /** Resolves when the workbench took the message: true if a live webview got it, false if dropped. */
  delivered: Thenable<boolean>;
}

const postedEmitter = new vscode.EventEmitter<PanelMessagePosted>();
/** Every message any panel host posts, as it is posted. */
export const onDidPostPanelMessage = postedEmitter.event;

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
    const delivered = this.panel.webview.postMessage(message).then((ok) => ok, () => false);
    postedEmitter.fire({ viewType: this.panel.viewType, type: (message as { type?: unknown }).type as string | undefined, delivered });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
