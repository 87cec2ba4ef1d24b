// What the VMem tree views share: the change event, the TreeView they feed, their disposables,
// and "nothing redrawn while hidden" — a refresh asked for while the view is hidden is kept for
// when it shows again, so a collapsed view sends the adapter no requests.
import * as vscode from 'vscode';

export abstract class SessionTree<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  protected readonly changeEmitter = new vscode.EventEmitter<T | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  protected view: vscode.TreeView<T> | undefined;
  protected readonly disposables: vscode.Disposable[] = [this.changeEmitter];
  /** A refresh was skipped while the view was hidden. */
  private stale = false;

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
    this.changeEmitter.fire(undefined);
    return true;
  }

  abstract getTreeItem(node: T): vscode.TreeItem;
  abstract getChildren(node?: T): vscode.ProviderResult<T[]>;
}
