// "VMem: Translate Address…": a gva picked or typed, or passed by a caller (a tree item, an
// event), opened in the Address Translation panel. The picker offers the address this stop is
// about, the gvas the Debug Console showed last and the clipboard's address; typing gives a
// number or an expression evaluated in the stopped vCPU (`rbx+8`, a label).
import * as vscode from 'vscode';
import { showAddressTranslation } from '../../webviews';
import type { WalkAccess } from '../../../engine/mmu/walkRecord';
import type { UxSessions } from '../sessionsPort';
import type { AddressHistory } from '../console/addressHistory';
import { addressLiteralHex } from './addressInput';
import { pickRows } from './addressPick';
import type { AddressChoice, PickSources } from './addressPick';

/** The clipboard can be slow to answer: the picker never waits for it. */
const CLIPBOARD_WAIT_MS = 1500;

/** A caller's argument: a gva string or number, or an object carrying one. */
function addressArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.trim() !== '') return arg.trim();
  if (typeof arg === 'number' && Number.isSafeInteger(arg) && arg >= 0) return String(arg);
  if (typeof arg === 'object' && arg !== null && 'gva' in arg) return addressArg((arg as { gva: unknown }).gva);
  return undefined;
}

/** The gva as 0x hex, evaluating an expression in the session; throws with the adapter's message. */
async function resolveGva(text: string, sessions: UxSessions): Promise<string> {
  const literal = addressLiteralHex(text);
  if (literal !== undefined) return literal;
  if (!sessions.state) throw new Error(`'${text}' is an expression: start debugging so it can be evaluated`);
  const value = (await sessions.evaluate(text, 'watch')).trim();
  const gva = addressLiteralHex(value);
  if (gva === undefined) throw new Error(`'${text}' is ${value}, not an address`);
  return gva;
}

type PickItem = vscode.QuickPickItem & { choice?: AddressChoice };

function readClipboard(): Promise<string | undefined> {
  // In a browser (code-server, vscode.dev) reading the clipboard unasked pops an "Unable to read
  // from the browser's clipboard" notification or a permission prompt: there, paste (Ctrl+V) instead.
  if (vscode.env.uiKind !== vscode.UIKind.Desktop) return Promise.resolve(undefined);
  const timeout = new Promise<undefined>((ok) => setTimeout(() => ok(undefined), CLIPBOARD_WAIT_MS));
  return Promise.race([Promise.resolve(vscode.env.clipboard.readText()).catch(() => undefined), timeout]);
}

/** The picker; resolves with the choice accepted, or undefined when dismissed. */
function pickAddress(sessions: UxSessions, history: AddressHistory): Promise<AddressChoice | undefined> {
  const st = sessions.state;
  const sources: PickSources = {
    focus: st?.focusAddress ? { gva: st.focusAddress, access: st.focusAccess, where: `vm${st.vm}/vcpu${st.vcpu}` } : undefined,
    console: history.list(),
    stopped: st !== undefined,
  };
  const qp = vscode.window.createQuickPick<PickItem>();
  qp.title = 'VMem: Translate Address';
  qp.placeholder = 'Pick an address, or type one (0x401000, 4198400) or an expression (rbx+8, a label)';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const render = (): void => {
    qp.items = pickRows(qp.value, sources).map((r): PickItem =>
      r.kind === 'separator'
        ? { label: r.label, kind: vscode.QuickPickItemKind.Separator }
        : { label: r.label, description: r.description, detail: r.detail, alwaysShow: r.alwaysShow, choice: r.choice },
    );
  };
  render();
  return new Promise((done) => {
    let settled = false;
    const finish = (c: AddressChoice | undefined): void => {
      if (settled) return;
      settled = true;
      done(c);
      qp.dispose();
    };
    qp.onDidChangeValue(render);
    qp.onDidAccept(() => {
      const c = qp.selectedItems[0]?.choice ?? qp.activeItems[0]?.choice;
      if (!c || c.kind === 'invalid') return; // the row says what is wrong; keep typing
      finish(c);
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
    void readClipboard().then((text) => {
      if (settled || text === undefined) return;
      sources.clipboard = text;
      const active = qp.activeItems[0]?.choice;
      render();
      // Re-rendering must not move the user's selection.
      const again = active && qp.items.find((i) => i.choice && JSON.stringify(i.choice) === JSON.stringify(active));
      if (again) qp.activeItems = [again];
    });
  });
}

export async function translateAddress(sessions: UxSessions, history: AddressHistory, arg?: unknown): Promise<string | undefined> {
  let text = addressArg(arg);
  let access: WalkAccess | undefined;
  if (text === undefined) {
    const choice = await pickAddress(sessions, history);
    if (choice === undefined || choice.kind === 'invalid') return undefined;
    text = choice.kind === 'address' ? choice.gva : choice.text;
    access = choice.kind === 'address' ? choice.access : undefined;
  }
  let gva: string;
  try {
    gva = await resolveGva(text, sessions);
  } catch (e) {
    void vscode.window.showErrorMessage(`VMem: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  showAddressTranslation(gva, access ? { access } : undefined);
  return gva;
}
