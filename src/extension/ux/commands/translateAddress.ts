// "VMem: Translate Address…": a gva typed (a number, or an expression evaluated in the stopped
// vCPU: `rbx+8`, a label), or passed by a caller (a tree item, an event), opened in the Address
// Translation panel. The box starts with the current fault's or last access's address.
import * as vscode from 'vscode';
import { showAddressTranslation } from '../../webviews';
import type { UxSessions } from '../sessionsPort';
import { checkAddressInput, parseAddressLiteral, toHex } from './addressInput';

/** A caller's argument: a gva string or number, or an object carrying one. */
function addressArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.trim() !== '') return arg.trim();
  if (typeof arg === 'number' && Number.isSafeInteger(arg) && arg >= 0) return String(arg);
  if (typeof arg === 'object' && arg !== null && 'gva' in arg) return addressArg((arg as { gva: unknown }).gva);
  return undefined;
}

/** The gva as 0x hex, evaluating an expression in the session; throws with the adapter's message. */
async function resolveGva(text: string, sessions: UxSessions): Promise<string> {
  const literal = parseAddressLiteral(text);
  if (literal !== undefined) return toHex(literal);
  if (!sessions.state) throw new Error(`'${text}' is an expression: start debugging so it can be evaluated`);
  const value = (await sessions.evaluate(text, 'watch')).trim();
  const n = parseAddressLiteral(value);
  if (n === undefined) throw new Error(`'${text}' is ${value}, not an address`);
  return toHex(n);
}

export async function translateAddress(sessions: UxSessions, arg?: unknown): Promise<string | undefined> {
  let text = addressArg(arg);
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: 'VMem: Translate Address',
      prompt: 'A guest-virtual address (0x401000, 4198400) or an expression evaluated in the stopped vCPU (rbx+8, a label)',
      placeHolder: '0x401000',
      value: sessions.state?.focusAddress ?? '',
      validateInput: (t) => checkAddressInput(t, sessions.state !== undefined),
    });
    if (text === undefined) return undefined;
  }
  let gva: string;
  try {
    gva = await resolveGva(text, sessions);
  } catch (e) {
    void vscode.window.showErrorMessage(`VMem: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  await showAddressTranslation(gva);
  return gva;
}
