// Inline values for guest assembly: on the lines of the current routine up to the stopped one,
// the registers each line names; on the stopped line, for each memory operand, the gva it
// touches (the operand's address evaluated by the adapter in the stopped frame) and that gva's
// translation (vmem/walk): `[rbx+8] = gva 0x401008 → gpa 0x2008 → mpa 0x9008`.
import * as vscode from 'vscode';
import { REG64 } from '../../../engine/isa/registers';
import type { WalkAccess } from '../../../engine/mmu/walkRecord';
import { readSettings } from '../settings';
import type { UxSessions } from '../sessionsPort';
import { routineStart } from './frameLines';
import { lineOperands } from './lineOperands';
import type { MemoryUse } from './lineOperands';
import { memoryOperandText, unevaluatedText } from './translationText';

/** Names the Registers scope holds as variables; other register names are evaluated. */
const SCOPE_NAMES = new Set<string>([...REG64, 'rip']);

const walkAccess = (m: MemoryUse): WalkAccess => (m.access === 'write' ? 'write' : 'read');

export class VmemInlineValuesProvider implements vscode.InlineValuesProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeInlineValues = this.changed.event;

  constructor(private readonly sessions: UxSessions) {}

  /** The settings changed: VS Code asks again. */
  refresh(): void {
    this.changed.fire();
  }

  async provideInlineValues(document: vscode.TextDocument, viewPort: vscode.Range, context: vscode.InlineValueContext, token: vscode.CancellationToken): Promise<vscode.InlineValue[]> {
    if (!readSettings(document.uri).inlineValues) return [];
    const stopped = context.stoppedLocation.start.line;
    const first = Math.max(viewPort.start.line, routineStart((l) => document.lineAt(l).text, stopped));
    const last = Math.min(stopped, viewPort.end.line, document.lineCount - 1);
    const out: vscode.InlineValue[] = [];
    let user: Promise<boolean> | undefined;
    for (let line = first; line <= last; line++) {
      const ops = lineOperands(document.lineAt(line).text);
      if (!ops) continue;
      for (const r of ops.registers) {
        const range = new vscode.Range(line, r.start, line, r.end);
        out.push(SCOPE_NAMES.has(r.name) ? new vscode.InlineValueVariableLookup(range, r.name, false) : new vscode.InlineValueEvaluatableExpression(range, r.name));
      }
      if (line === stopped) {
        for (const m of ops.memory) {
          if (token.isCancellationRequested) return out;
          // The walk checks permissions as the instruction would: a user access at CPL 3.
          user ??= this.evaluate('cpl', context.frameId).then((v) => v === '0x3', () => false);
          const text = await this.memoryText(m, context.frameId, await user);
          if (text) out.push(new vscode.InlineValueText(new vscode.Range(line, m.start, line, m.end), text));
        }
      }
    }
    return out;
  }

  /** The operand's gva and translation, or why there is none; undefined without a stopped vmem session. */
  private async memoryText(m: MemoryUse, frameId: number, user: boolean): Promise<string | undefined> {
    const state = this.sessions.state;
    if (!state) return undefined;
    let gva: string;
    try {
      gva = await this.evaluate(m.address, frameId);
      if (!/^0x[0-9a-f]+$/i.test(gva)) return unevaluatedText(m.text, 'not a number');
    } catch (e) {
      return unevaluatedText(m.text, e instanceof Error ? e.message : String(e));
    }
    try {
      const walk = await this.sessions.request('vmem/walk', { vm: state.vm, vcpu: state.vcpu, gva, access: walkAccess(m), user });
      return memoryOperandText(m.text, walk);
    } catch (e) {
      return unevaluatedText(m.text, e instanceof Error ? e.message : String(e));
    }
  }

  /** An expression in the given frame (the adapter's language: registers, labels, memory). */
  private async evaluate(expression: string, frameId: number): Promise<string> {
    const state = this.sessions.state;
    if (!state) throw new Error('no stopped vmem session');
    const body = (await state.session.customRequest('evaluate', { expression, frameId, context: 'watch' })) as { result?: unknown };
    if (typeof body.result !== 'string') throw new Error(`no value for ${expression}`);
    return body.result;
  }
}
