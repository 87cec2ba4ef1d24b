// What the VMem tree views share: the change event, the TreeView they feed, their disposables,
// and "nothing redrawn while hidden" — a refresh asked for while the view is hidden is kept for
// when it shows again, so a collapsed view sends the adapter no requests.
//
// VS Code debounces a tree view's changes — data and message together — over 200 ms, the first
// at once and any other within the window 200 ms after the last one. So the views set their
// message only when it changes, after the data change of a redraw, and say "running" only once
// the guest has run for a moment: a step (which stops within milliseconds) then changes no
// message, and the redraw of its stop goes out at once instead of 200 ms later.
import * as vscode from 'vscode';

/** The guest has run this long before a view says it runs (a step is over long before). */
export const RUNNING_NOTICE_DELAY_MS = 500;

export abstract class SessionTree<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  protected readonly changeEmitter = new vscode.EventEmitter<T | T[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  protected view: vscode.TreeView<T> | undefined;
  protected readonly disposables: vscode.Disposable[] = [this.changeEmitter, { dispose: () => this.stillRunning() }];
  /** A refresh was skipped while the view was hidden. */
  private stale = false;
  private runningTimer: ReturnType<typeof setTimeout> | undefined;

  attach(view: vscode.TreeView<T>): void {
    this.view = view;
    this.disposables.push(view.onDidChangeVisibility((e) => {
      if (e.visible) this.shown();
    }));
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }

  /** The view became visible: redraw what was skipped. */
  protected shown(): void {
    if (this.stale) this.refresh();
  }

  /** Redraws the whole tree now, or when the view shows again; true when redrawn now. */
  protected refresh(): boolean {
    if (this.view && !this.view.visible) {
      this.stale = true;
      return false;
    }
    this.stale = false;
    this.willRedraw();
    this.changeEmitter.fire(undefined);
    return true;
  }

  /**
   * Redraws `nodes` and everything open below them (the nodes the view holds: the very objects
   * getChildren gave it), or the whole tree when the view shows again; true when redrawn now.
   */
  protected refreshNodes(nodes: T[]): boolean {
    if (this.stale || (this.view && !this.view.visible)) return this.refresh();
    this.willRedraw();
    this.changeEmitter.fire(nodes);
    return true;
  }

  /** A redraw is owed to the view (it was hidden when asked). */
  protected get redrawOwed(): boolean {
    return this.stale;
  }

  /** Called just before a redraw of a visible view: start reading what the workbench is about to ask for. */
  protected willRedraw(): void {
    // Nothing by default.
  }

  /** The view's message, set only when it changes (see the debounce above). */
  protected setMessage(message: string | undefined): void {
    if (!this.view || (this.view.message || undefined) === (message || undefined)) return;
    this.view.message = message;
  }

  /** Calls `show` once the guest has run for RUNNING_NOTICE_DELAY_MS; with no argument, cancels it (the guest stopped). */
  protected stillRunning(show?: () => void): void {
    if (this.runningTimer !== undefined) clearTimeout(this.runningTimer);
    this.runningTimer = show ? setTimeout(() => {
      this.runningTimer = undefined;
      show();
    }, RUNNING_NOTICE_DELAY_MS) : undefined;
  }

  abstract getTreeItem(node: T): vscode.TreeItem;
  abstract getChildren(node?: T): vscode.ProviderResult<T[]>;
}
