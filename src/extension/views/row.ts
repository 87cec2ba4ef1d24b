// A tree row as plain data: what the vscode-free models produce and the tests read; treeItem.ts
// turns it into a vscode.TreeItem.

export interface RowIcon {
  /** A codicon id, e.g. "symbol-array". */
  id: string;
  /** A theme colour id, e.g. "charts.yellow". */
  color?: string;
}

export interface RowCommand {
  command: string;
  title: string;
  args: unknown[];
}

export interface Row {
  /** Stable across refreshes, so expansion and selection survive a stop. */
  id: string;
  label: string;
  description?: string;
  /** Markdown (already escaped). */
  tooltip?: string;
  icon?: RowIcon;
  collapsible: 'none' | 'collapsed' | 'expanded';
  contextValue?: string;
  command?: RowCommand;
}

export const CHANGED_COLOR = 'charts.yellow';
export const CHANGED_SUFFIX = ' • changed';
