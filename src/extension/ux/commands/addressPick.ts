// What "Translate Address…" offers, as a pure list: what is typed (a number, or an expression
// the stopped vCPU evaluates), the address this stop is about, the gvas the Debug Console showed
// last (newest first, each with its line), and the clipboard when it holds an address. Each
// address appears once, in the first group that has it. The vscode layer only renders this.
import type { WalkAccess } from '../../../engine/mmu/walkRecord';
import type { HarvestedAddress } from '../console/addressHarvest';
import { addressLiteralHex, checkAddressInput } from './addressInput';

export type AddressChoice =
  | { kind: 'address'; gva: string; access?: WalkAccess }
  | { kind: 'expression'; text: string }
  /** Typed text that cannot be submitted: accepting it keeps the picker open. */
  | { kind: 'invalid'; message: string };

export type PickRow =
  | { kind: 'separator'; label: string }
  | { kind: 'item'; label: string; description?: string; detail?: string; choice: AddressChoice; alwaysShow?: boolean };

export interface PickSources {
  /** The current fault's or last access's gva (vmem/context), when stopped. */
  focus?: { gva: string; access?: WalkAccess; where: string };
  /** From the Debug Console, newest first. */
  console: readonly HarvestedAddress[];
  /** The clipboard's text, once read. */
  clipboard?: string;
  /** Is a vmem session stopped (can an expression be evaluated)? */
  stopped: boolean;
}

export const GROUP_STOP = 'At this stop';
export const GROUP_CONSOLE = 'From the Debug Console';
export const GROUP_CLIPBOARD = 'Clipboard';

const describe = (...parts: (string | undefined)[]): string | undefined => parts.filter((p) => p).join(' · ') || undefined;

/** The row for the typed text, or undefined while nothing is typed. */
export function typedRow(typed: string, stopped: boolean): PickRow | undefined {
  const t = typed.trim();
  if (t === '') return undefined;
  const problem = checkAddressInput(t, stopped);
  if (problem !== undefined) return { kind: 'item', label: `$(error) ${problem}`, choice: { kind: 'invalid', message: problem }, alwaysShow: true };
  const literal = addressLiteralHex(t);
  if (literal !== undefined) return { kind: 'item', label: `$(arrow-right) ${literal}`, description: 'translate the address typed', choice: { kind: 'address', gva: literal }, alwaysShow: true };
  return { kind: 'item', label: `$(symbol-variable) ${t}`, description: 'evaluate in the stopped vCPU, then translate', choice: { kind: 'expression', text: t }, alwaysShow: true };
}

/** The clipboard's address, when its whole text is one (as Copy Value copies a register). */
export function clipboardAddress(text: string | undefined): string | undefined {
  return text === undefined ? undefined : addressLiteralHex(text);
}

export function pickRows(typed: string, s: PickSources): PickRow[] {
  const rows: PickRow[] = [];
  const offered = new Set<string>();
  const typedItem = typedRow(typed, s.stopped);
  if (typedItem) rows.push(typedItem);
  if (s.focus) {
    offered.add(s.focus.gva);
    rows.push({ kind: 'separator', label: GROUP_STOP });
    rows.push({ kind: 'item', label: s.focus.gva, description: describe('the current fault or last access', s.focus.where, s.focus.access), choice: { kind: 'address', gva: s.focus.gva, access: s.focus.access } });
  }
  const fromConsole = s.console.filter((h) => !offered.has(h.gva));
  if (fromConsole.length) {
    rows.push({ kind: 'separator', label: GROUP_CONSOLE });
    for (const h of fromConsole) {
      offered.add(h.gva);
      rows.push({ kind: 'item', label: h.gva, description: describe(h.where, h.access), detail: h.line, choice: { kind: 'address', gva: h.gva, access: h.access } });
    }
  }
  const clip = clipboardAddress(s.clipboard);
  if (clip !== undefined && !offered.has(clip)) {
    rows.push({ kind: 'separator', label: GROUP_CLIPBOARD });
    rows.push({ kind: 'item', label: clip, description: 'copied', choice: { kind: 'address', gva: clip } });
  }
  return rows;
}
