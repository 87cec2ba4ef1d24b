// The thin vscode side of a Row.
import * as vscode from 'vscode';
import type { Row } from './row';

const STATES: Record<Row['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function toTreeItem(row: Row): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, STATES[row.collapsible]);
  item.id = row.id;
  item.description = row.description;
  if (row.tooltip) item.tooltip = tooltipOf(row.tooltip);
  if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon.id, row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined);
  item.contextValue = row.contextValue;
  if (row.command) item.command = { command: row.command.command, title: row.command.title, arguments: row.command.args };
  return item;
}

/** A row's Markdown tooltip: untrusted, no HTML. */
export function tooltipOf(markdown: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(markdown);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}
