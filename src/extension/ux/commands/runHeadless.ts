// "VMem: Run Guest Program Headless": the active program assembled and run to the end, its
// summary in the VMem output channel (what `vmem run FILE` prints).
import * as vscode from 'vscode';
import { assemble } from '../../../engine/isa/assembler';
import { runProgram } from '../../../engine/runner';
import { formatSummary } from '../../../engine/summaryText';
import { targetProgram, workspaceFiles } from '../workspaceFiles';

export function runHeadless(output: vscode.OutputChannel, arg?: unknown): void {
  const uri = targetProgram(arg);
  if (!uri || !/\.(s|vmasm)$/i.test(uri.fsPath)) {
    void vscode.window.showWarningMessage('VMem: open a guest program (.s, .vmasm) first.');
    return;
  }
  const result = assemble(uri.fsPath, workspaceFiles());
  output.clear();
  output.show(true);
  for (const d of result.diagnostics) output.appendLine(`${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`);
  if (!result.ok) return;
  output.append(formatSummary(vscode.workspace.asRelativePath(uri), runProgram(result, {})));
}
