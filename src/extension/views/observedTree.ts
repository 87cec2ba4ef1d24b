// What the workbench sees of a VMem tree provider, plus one observation: an event each time a
// `getChildren` call from the view has been answered — the children fetched and each child's
// TreeItem built (VS Code asks getTreeItem for every child right after getChildren resolves).
// Nothing else changes: the same provider answers everything. The extension-host benchmark
// (bench/extensionHost/) reads it to tell when a view's refresh after a stop is complete.
import * as vscode from 'vscode';

export interface ChildrenAnswered {
  /** The view's id, e.g. vmem.pageTables. */
  viewId: string;
  /** The id of the node whose children were asked; undefined for the tree's root. */
  nodeId: string | undefined;
  /** How many children were answered. */
  count: number;
  /** The provider rejected (the view shows nothing for that node). */
  failed?: true;
}

interface Pending {
  left: number;
  done: () => void;
}

export function observedProvider<T extends { id: string }>(
  viewId: string,
  provider: vscode.TreeDataProvider<T>,
  answered: vscode.EventEmitter<ChildrenAnswered>,
): vscode.TreeDataProvider<T> {
  // A child whose TreeItem VS Code has not asked for yet → the getChildren answer it belongs to.
  const pending = new WeakMap<T, Pending>();
  const settle = (nodeId: string | undefined, children: T[] | null | undefined): void => {
    const list = children ?? [];
    const done = (): void => answered.fire({ viewId, nodeId, count: list.length });
    if (list.length === 0) {
      done();
      return;
    }
    const p: Pending = { left: list.length, done };
    for (const c of list) pending.set(c, p);
  };
  const observed: vscode.TreeDataProvider<T> = {
    onDidChangeTreeData: provider.onDidChangeTreeData,
    getTreeItem: (element) => {
      const item = provider.getTreeItem(element);
      const p = pending.get(element);
      if (p) {
        pending.delete(element);
        if (--p.left === 0) p.done();
      }
      return item;
    },
    getChildren: (element) => {
      const nodeId = element?.id;
      const children = provider.getChildren(element);
      if (!isThenable(children)) {
        settle(nodeId, children);
        return children;
      }
      return Promise.resolve(children).then(
        (c) => {
          settle(nodeId, c);
          return c;
        },
        (e: unknown) => {
          answered.fire({ viewId, nodeId, count: 0, failed: true });
          throw e;
        },
      );
    },
  };
  if (provider.getParent) observed.getParent = (element) => provider.getParent!(element);
  if (provider.resolveTreeItem) observed.resolveTreeItem = (item, element, token) => provider.resolveTreeItem!(item, element, token);
  return observed;
}

function isThenable<V>(v: vscode.ProviderResult<V>): v is Thenable<V | null | undefined> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}
