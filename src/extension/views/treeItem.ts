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
  if (row.tooltip) {
    const md = new vscode.MarkdownString(row.tooltip);
    md.isTrusted = false;
    md.supportHtml = false;
    item.tooltip = md;
  }
  if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon.id, row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined);
  item.contextValue = row.contextValue;
  if (row.command) item.command = { command: row.command.command, title: row.command.title, arguments: row.command.args };
  return item;
}
