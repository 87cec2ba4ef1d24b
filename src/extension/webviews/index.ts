// The three webview panels — Address Translation, Machine Memory, Event Timeline — registered
// once: their commands, their serializers (a panel open before a reload comes back with its
// state), and the read-only memory dump they fall back to.
import * as vscode from 'vscode';
import type { VmemSessions } from '../session';
import type { MemoryViewState, TimelineViewState, TranslationViewState } from '../../webview/shared/messages';
import { TRANSLATION_SPEC, TranslationPanel } from './translationPanel';
import { MEMORY_SPEC, MemoryPanel } from './memoryPanel';
import { TIMELINE_SPEC, TimelinePanel } from './timelinePanel';
import { DUMP_SCHEME, MemoryDumpProvider } from './memoryDocument';

interface Registry {
  context: vscode.ExtensionContext;
  sessions: VmemSessions;
  translation?: TranslationPanel;
  memory?: MemoryPanel;
  timeline?: TimelinePanel;
}

let registry: Registry | undefined;

/** Opens (or reveals) the Address Translation panel; with a gva, shows that address instead of following the stop. */
export function showAddressTranslation(gva?: string): void {
  const r = registry;
  if (!r) return;
  if (!r.translation) r.translation = TranslationPanel.create(r.context, r.sessions, () => (r.translation = undefined));
  r.translation.show(gva);
}

export function showMachineMemory(): void {
  const r = registry;
  if (!r) return;
  if (r.memory) r.memory.panel.reveal();
  else r.memory = MemoryPanel.create(r.context, r.sessions, () => (r.memory = undefined));
}

export function showEventTimeline(): void {
  const r = registry;
  if (!r) return;
  if (r.timeline) r.timeline.panel.reveal();
  else r.timeline = TimelinePanel.create(r.context, r.sessions, () => (r.timeline = undefined));
}

export function registerWebviews(context: vscode.ExtensionContext, sessions: VmemSessions): void {
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
    vscode.window.registerWebviewPanelSerializer(TRANSLATION_SPEC.viewType, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        r.translation?.panel.dispose();
        r.translation = TranslationPanel.restore(context, panel, sessions, state as TranslationViewState | undefined, () => (r.translation = undefined));
      },
    }),
    vscode.window.registerWebviewPanelSerializer(MEMORY_SPEC.viewType, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        r.memory?.panel.dispose();
        r.memory = MemoryPanel.restore(context, panel, sessions, state as MemoryViewState | undefined, () => (r.memory = undefined));
      },
    }),
    vscode.window.registerWebviewPanelSerializer(TIMELINE_SPEC.viewType, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        r.timeline?.panel.dispose();
        r.timeline = TimelinePanel.restore(context, panel, sessions, state as TimelineViewState | undefined, () => (r.timeline = undefined));
      },
    }),
    { dispose: () => [r.translation, r.memory, r.timeline].forEach((p) => p?.panel.dispose()) },
  );
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
