// The Address Translation panel's host: decides which gva to translate (the stop's focus
// address, a typed one, or one sent by a command), asks the adapter for its walk and the vCPU's
// TLB tag at every stop and selection change, and remembers each query's answer at the previous
// stop so the webview can mark what changed.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import { hasType, isMemoryReference, parseGva } from '../../webview/shared/messages';
import type {
  GvaSource, TlbTagWire, TranslationHostMessage, TranslationIntent, TranslationMessage, TranslationQuery, TranslationViewState,
} from '../../webview/shared/messages';
import type { WalkAccess } from '../../engine/mmu/walkRecord';
import { PanelChannel, createPanel, preparePanel } from './panelHost';
import type { PanelSpec } from './panelHost';
import { failureMessage, stopRef } from './stopRef';
import { StopFollower } from './stopFollower';
import { openMemoryReference } from './memoryDocument';
import { AnswerHistory } from './answerHistory';

export const TRANSLATION_SPEC: PanelSpec = {
  viewType: 'vmem.addressTranslation',
  title: 'Address Translation',
  script: 'translation',
  styles: ['translation.css'],
  icon: 'webview/translation.svg',
};

const ACCESSES: readonly WalkAccess[] = ['read', 'write', 'fetch'];

/** How a gva sent by a command is walked; what is left out keeps the panel's current choice. */
export interface WalkOptions {
  access?: WalkAccess;
  user?: boolean;
}

function isIntent(m: unknown): m is TranslationIntent {
  if (!hasType<TranslationIntent>(m, 'ready', 'translate', 'followFocus', 'openMemory')) return false;
  if (m.type === 'translate') return typeof m.query?.gva === 'string' && ACCESSES.includes(m.query.access) && typeof m.query.user === 'boolean';
  if (m.type === 'openMemory') return isMemoryReference(m.reference) && typeof m.label === 'string';
  return true;
}

interface Answer {
  walk: TranslationMessage['walk'];
  tlbTag: TlbTagWire | null;
}

export class TranslationPanel implements vscode.Disposable {
  /** The gva on display; undefined: follow the stop's focus address. */
  private gva: string | undefined;
  private source: GvaSource = 'focus';
  private access: WalkAccess = 'read';
  private user = false;
  private readonly channel: PanelChannel<TranslationHostMessage, TranslationIntent>;
  private readonly follower: StopFollower;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly history = new AnswerHistory<Answer>();
  private disposed = false;

  static create(context: vscode.ExtensionContext, sessions: VmemSessions, onDispose: () => void): TranslationPanel {
    return new TranslationPanel(createPanel(context, TRANSLATION_SPEC, vscode.ViewColumn.Beside), sessions, undefined, onDispose);
  }

  static restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, sessions: VmemSessions, state: TranslationViewState | undefined, onDispose: () => void): TranslationPanel {
    preparePanel(context, panel, TRANSLATION_SPEC);
    return new TranslationPanel(panel, sessions, state, onDispose);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly sessions: VmemSessions,
    restored: TranslationViewState | undefined,
    onDispose: () => void,
  ) {
    if (restored?.query && restored.source !== 'focus' && parseGva(restored.query.gva)) {
      this.gva = parseGva(restored.query.gva);
      this.source = restored.source ?? 'typed';
    }
    if (restored?.query && ACCESSES.includes(restored.query.access)) {
      this.access = restored.query.access;
      this.user = restored.query.user === true;
    }
    this.channel = new PanelChannel(panel, isIntent, (i) => this.onIntent(i));
    this.follower = new StopFollower(panel, sessions, (m) => this.channel.post(m), {
      refresh: () => void this.refresh(),
      ended: () => this.history.clear(),
      closed: () => {
        this.dispose();
        onDispose();
      },
    });
    this.disposables.push(this.channel, this.follower);
  }

  /** What a replacement panel needs to go on showing the same query (the host's side of getState). */
  viewState(): TranslationViewState {
    return { query: { gva: this.gva ?? '', access: this.access, user: this.user }, source: this.source };
  }

  /** Shows `gva` (a command, a tree entry, an event, a console line) or, without one, follows the stop again. */
  show(gva: string | undefined, walk: WalkOptions = {}): void {
    const parsed = gva === undefined ? undefined : parseGva(gva);
    if (gva !== undefined && !parsed) {
      void vscode.window.showWarningMessage(`VMem: "${gva}" is not an address.`);
      return;
    }
    this.gva = parsed;
    this.source = parsed ? 'command' : 'focus';
    if (walk.access && ACCESSES.includes(walk.access)) this.access = walk.access;
    if (typeof walk.user === 'boolean') this.user = walk.user;
    this.panel.reveal(undefined, false);
    void this.refresh();
  }

  private onIntent(i: TranslationIntent): void {
    switch (i.type) {
      case 'ready':
        void this.refresh();
        return;
      case 'translate': {
        const gva = parseGva(i.query.gva);
        if (!gva) return;
        this.gva = gva;
        this.source = 'typed';
        this.access = i.query.access;
        this.user = i.query.user;
        void this.refresh();
        return;
      }
      case 'followFocus':
        this.gva = undefined;
        this.source = 'focus';
        if (i.access && ACCESSES.includes(i.access)) this.access = i.access;
        if (typeof i.user === 'boolean') this.user = i.user;
        void this.refresh();
        return;
      case 'openMemory':
        void openMemoryReference(this.sessions, i.reference, i.label);
        return;
    }
  }

  async refresh(): Promise<void> {
    const refresh = this.follower.begin();
    if (!refresh) return;
    const { st } = refresh;
    const stop = stopRef(this.sessions, st);
    const gva = this.gva ?? st.focusAddress;
    // Following the stop, walk the address the way the vCPU touched it (a fetch fault as a fetch).
    if (this.gva === undefined && st.focusAccess) this.access = st.focusAccess;
    if (!gva) {
      this.channel.post({ type: 'phase', phase: 'error', message: `${stop.thread} has translated no address yet at this stop: type a gva above.` });
      return;
    }
    const query: TranslationQuery = { gva, access: this.access, user: this.user };
    try {
      const [walk, tlb] = await Promise.all([
        this.sessions.request('vmem/walk', { vm: st.vm, vcpu: st.vcpu, gva, access: this.access, user: this.user }),
        // Shared with the TLB view, which reads the same vCPU's TLB at the stop.
        this.sessions.shared('vmem/tlb', { vm: st.vm, vcpu: st.vcpu }).then((t) => t, () => undefined),
      ]);
      if (!refresh.current()) return;
      let tlbTag: TlbTagWire | null = null;
      if (tlb) {
        const { entries: _entries, ...tag } = tlb;
        tlbTag = tag;
      }
      const key = `${st.session.id}/${st.vm}/${st.vcpu}/${gva}/${this.access}/${this.user}`;
      const previous = this.history.record(key, st.stopCount, { walk, tlbTag });
      this.channel.post({
        type: 'translation', stop, query, source: this.source, walk, tlbTag,
        previous: previous ? { stopCount: previous.stopCount, walk: previous.value.walk, tlbTag: previous.value.tlbTag } : undefined,
      });
    } catch (e) {
      if (!refresh.current()) return;
      const message = failureMessage(e);
      if (message !== undefined) this.channel.post({ type: 'translationError', stop, query, message });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposables.forEach((d) => d.dispose());
  }
}
