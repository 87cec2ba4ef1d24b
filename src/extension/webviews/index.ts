// The webview panels — Address Translation, Machine Memory, Event Timeline, Memory Overcommit — registered
// once: their commands, their serializers (a panel open before a reload comes back with its
// state), and the read-only memory dump they fall back to.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import type { TranslationViewState } from '../../webview/shared/messages';
import { TRANSLATION_SPEC, TranslationPanel } from './translationPanel';
import type { WalkOptions } from './translationPanel';
import { MEMORY_SPEC, MemoryPanel } from './memoryPanel';
import { TIMELINE_SPEC, TimelinePanel } from './timelinePanel';
import { OVERCOMMIT_SPEC, OvercommitPanel } from './overcommitPanel';
import { DUMP_SCHEME, MemoryDumpProvider } from './memoryDocument';
import { MAX_RECREATIONS, onDidPostPanelMessage, panelOptions, recreateWhenStuck } from './panelHost';
import type { PanelMessagePosted } from './panelHost';

interface Registry {
  context: vscode.ExtensionContext;
  sessions: VmemSessions;
  translation?: TranslationPanel;
  memory?: MemoryPanel;
  timeline?: TimelinePanel;
  overcommit?: OvercommitPanel;
}

let registry: Registry | undefined;

/**
 * Opens (or reveals) the Address Translation panel; with a gva, shows that address instead of
 * following the stop, walked as `walk` says when given (a console `translate … write user`, rip
 * as a fetch); otherwise with the access the panel had.
 */
export function showAddressTranslation(gva?: string, walk?: WalkOptions): void {
  const r = registry;
  if (!r) return;
  if (!r.translation) {
    r.translation = TranslationPanel.create(r.context, r.sessions, () => (r.translation = undefined));
    replaceWhenStuck(r, 'translation');
  }
  r.translation.show(gva, walk);
}

export function showMachineMemory(): void {
  const r = registry;
  if (!r) return;
  if (r.memory) r.memory.panel.reveal();
  else {
    r.memory = MemoryPanel.create(r.context, r.sessions, () => (r.memory = undefined));
    replaceWhenStuck(r, 'memory');
  }
}

export function showEventTimeline(): void {
  const r = registry;
  if (!r) return;
  if (r.timeline) r.timeline.panel.reveal();
  else {
    r.timeline = TimelinePanel.create(r.context, r.sessions, () => (r.timeline = undefined));
    replaceWhenStuck(r, 'timeline');
  }
}

export function showMemoryOvercommit(): void {
  const r = registry;
  if (!r) return;
  if (r.overcommit) r.overcommit.panel.reveal();
  else {
    r.overcommit = OvercommitPanel.create(r.context, r.sessions, () => (r.overcommit = undefined));
    replaceWhenStuck(r, 'overcommit');
  }
}

/** What the extension's API exposes of the panels (for the extension-host benchmark). */
export interface VmemWebviews {
  onDidPostMessage: vscode.Event<PanelMessagePosted>;
}

export function registerWebviews(context: vscode.ExtensionContext, sessions: VmemSessions): VmemWebviews {
  const r: Registry = { context, sessions };
  registry = r;
  const dumps = new MemoryDumpProvider(sessions);
  context.subscriptions.push(
    dumps,
    vscode.workspace.registerTextDocumentContentProvider(DUMP_SCHEME, dumps),
    // The command takes a gva from menus and links (a string) or from a tree item's argument.
    vscode.commands.registerCommand('vmem.showAddressTranslation', (arg?: unknown) => showAddressTranslation(gvaOf(arg))),
    vscode.commands.registerCommand('vmem.showMachineMemory', showMachineMemory),
    vscode.commands.registerCommand('vmem.showEventTimeline', showEventTimeline),
    vscode.commands.registerCommand('vmem.showMemoryOvercommit', showMemoryOvercommit),
    // One panel per kind: a restored panel replaces one already open.
    ...KINDS.map((kind) =>
      vscode.window.registerWebviewPanelSerializer(SPECS[kind].viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          r[kind]?.panel.dispose();
          restoreInto(r, kind, panel, state);
        },
      }),
    ),
    { dispose: () => KINDS.forEach((kind) => r[kind]?.panel.dispose()) },
  );
  return { onDidPostMessage: onDidPostPanelMessage };
}

type Kind = 'translation' | 'memory' | 'timeline' | 'overcommit';
const KINDS: readonly Kind[] = ['translation', 'memory', 'timeline', 'overcommit'];
const SPECS = { translation: TRANSLATION_SPEC, memory: MEMORY_SPEC, timeline: TIMELINE_SPEC, overcommit: OVERCOMMIT_SPEC } as const;

/** Gives `panel` (restored by VS Code, or new in place of a stuck one) its host. */
function restoreInto(r: Registry, kind: Kind, panel: vscode.WebviewPanel, state: unknown, recreations = MAX_RECREATIONS): void {
  const { context, sessions } = r;
  // Each host forgets only itself when closed: a replaced panel's late dispose leaves its successor.
  if (kind === 'translation') {
    const p: TranslationPanel = TranslationPanel.restore(context, panel, sessions, state as TranslationViewState | undefined, () => r.translation === p && (r.translation = undefined));
    r.translation = p;
  } else if (kind === 'memory') {
    const p: MemoryPanel = MemoryPanel.restore(context, panel, sessions, () => r.memory === p && (r.memory = undefined));
    r.memory = p;
  } else if (kind === 'timeline') {
    const p: TimelinePanel = TimelinePanel.restore(context, panel, sessions, () => r.timeline === p && (r.timeline = undefined));
    r.timeline = p;
  } else {
    const p: OvercommitPanel = OvercommitPanel.restore(context, panel, sessions, () => r.overcommit === p && (r.overcommit = undefined));
    r.overcommit = p;
  }
  replaceWhenStuck(r, kind, recreations);
}

/**
 * A webview whose page never starts (its frame lost the browser's service-worker race after a
 * reload; see loadWatchdog.ts) is replaced by a new panel in the same editor group, which
 * registers afresh; the same query goes on (the translation's gva, access, user).
 */
function replaceWhenStuck(r: Registry, kind: Kind, left = MAX_RECREATIONS): void {
  const current = r[kind];
  if (!current) return;
  recreateWhenStuck(current.panel, left, () => {
    if (r[kind] !== current) return;
    const state = kind === 'translation' ? r.translation?.viewState() : undefined;
    const spec = SPECS[kind];
    // Opened before the old one closes, so a group holding only the stuck panel stays where it is.
    const fresh = vscode.window.createWebviewPanel(spec.viewType, spec.title, { viewColumn: current.panel.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: true }, panelOptions(r.context));
    current.panel.dispose();
    restoreInto(r, kind, fresh, state, left - 1);
  });
}

/** A gva from a command argument: a string, or an object carrying `gva` (tree items, events). */
function gvaOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'number') return '0x' + arg.toString(16);
  if (arg && typeof arg === 'object' && 'gva' in arg) {
    const g = (arg as { gva: unknown }).gva;
    if (typeof g === 'string') return g;
    if (typeof g === 'number') return '0x' + g.toString(16);
  }
  return undefined;
}
