// Feeds the address history from what the Debug Console of a vmem session shows: output events
// (logEvents lines, guest console), stop descriptions, and the answers to lines typed there
// (evaluate with context `repl`: `walk`/`tlb`/`exits` text, or an expression's gva value). Watch,
// hover and the extension's own evaluations are not console output and are ignored.
import type * as vscode from 'vscode';
import { harvestAddresses, harvestEvaluation } from './addressHarvest';
import type { AddressHistory } from './addressHistory';

interface Message {
  type?: unknown;
  seq?: unknown;
  command?: unknown;
  event?: unknown;
  request_seq?: unknown;
  success?: unknown;
  arguments?: { expression?: unknown; context?: unknown };
  body?: { output?: unknown; category?: unknown; description?: unknown; result?: unknown; memoryReference?: unknown };
}

/** Typed lines still waiting for their answer, per session; bounded in case an answer never comes. */
const MAX_PENDING = 64;

export class ConsoleAddressTrackerFactory implements vscode.DebugAdapterTrackerFactory {
  constructor(private readonly history: AddressHistory) {}

  createDebugAdapterTracker(): vscode.DebugAdapterTracker {
    const pending = new Map<number, string>();
    return {
      onWillReceiveMessage: (m: unknown) => {
        const r = m as Message;
        if (r.type !== 'request' || r.command !== 'evaluate' || r.arguments?.context !== 'repl' || typeof r.seq !== 'number') return;
        if (typeof r.arguments.expression !== 'string') return;
        pending.set(r.seq, r.arguments.expression);
        if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value as number);
      },
      onDidSendMessage: (m: unknown) => this.onAdapterMessage(m as Message, pending),
    };
  }

  private onAdapterMessage(m: Message, pending: Map<number, string>): void {
    if (m.type === 'event') {
      if (m.event === 'output' && typeof m.body?.output === 'string' && m.body.category !== 'telemetry') this.history.add(harvestAddresses(m.body.output));
      else if (m.event === 'stopped' && typeof m.body?.description === 'string') this.history.add(harvestAddresses(m.body.description));
      return;
    }
    if (m.type !== 'response' || typeof m.request_seq !== 'number') return;
    const expression = pending.get(m.request_seq);
    if (expression === undefined) return;
    pending.delete(m.request_seq);
    if (m.success !== true || typeof m.body?.result !== 'string') return;
    const value = harvestEvaluation(expression, m.body.result, typeof m.body.memoryReference === 'string' ? m.body.memoryReference : undefined);
    // A command's answer is about its first address (`walk`'s gva, not the TLB page under it): newest.
    this.history.add(value ? [value] : harvestAddresses(m.body.result).reverse());
  }
}
