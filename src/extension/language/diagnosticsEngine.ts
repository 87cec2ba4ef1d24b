// Diagnostics as you type: each open file is assembled as part of its root (see
// includeGraph.ts), debounced per root; every file of the unit gets the diagnostics that
// point into it, so an error in an included file shows on that file. A file's diagnostics
// come from exactly one root, and are cleared when no open document needs that root.
import type { AssembleResult, Diagnostic } from '../../engine/isa/assembler';
import { LanguageIndex } from './languageIndex';

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface DiagnosticsSink {
  /** Replaces the diagnostics of `file`; `undefined` removes them. */
  publish(file: string, diagnostics: Diagnostic[] | undefined): void;
}

export const DEFAULT_DELAY_MS = 300;

/** Diagnostics grouped by file; every file of `unit` gets an entry (empty clears old ones). */
export function groupByFile(result: AssembleResult, unit: readonly string[]): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>(unit.map((f) => [f, []]));
  for (const d of result.diagnostics) {
    const list = out.get(d.file);
    if (list) list.push(d);
    else out.set(d.file, [d]);
  }
  return out;
}

export class DiagnosticsEngine {
  private readonly pending = new Map<string, unknown>();
  /** file → the root whose assembly published its diagnostics. */
  private readonly published = new Map<string, string>();
  private readonly results = new Map<string, AssembleResult>();

  constructor(
    private readonly index: LanguageIndex,
    private readonly assemble: (root: string) => AssembleResult,
    private readonly sink: DiagnosticsSink,
    private readonly timers: Timers,
    private readonly delayMs = DEFAULT_DELAY_MS,
  ) {}

  /** The last assembly that covers `file` (for symbol values), if any. */
  resultFor(file: string): AssembleResult | undefined {
    return this.results.get(this.index.rootOf(file));
  }

  /** The assembly covering `file`, assembling now when none is ready yet (a hover in the first 300 ms). */
  resultNow(file: string): AssembleResult | undefined {
    const root = this.index.rootOf(file);
    const ready = this.results.get(root);
    if (ready) return ready;
    // Nobody has it open: assemble for this question only (no diagnostics to publish).
    if (!this.liveRoots().has(root)) return this.assemble(root);
    const handle = this.pending.get(root);
    if (handle !== undefined) {
      this.timers.clear(handle);
      this.pending.delete(root);
    }
    this.run(root);
    return this.results.get(root);
  }

  /** Roots some open document is assembled from. */
  liveRoots(): Set<string> {
    return new Set([...this.index.open].map((f) => this.index.rootOf(f)));
  }

  opened(file: string): void {
    this.index.setOpen(file, true);
    this.index.update(file);
    this.changed(file);
  }

  /** `file`'s text changed (typed, saved, created or deleted): re-assemble every live root that reads it. */
  changed(file: string): void {
    this.index.update(file);
    for (const root of this.liveRoots()) {
      if (this.index.graph.unit(root).includes(file) || this.index.rootOf(file) === root) this.schedule(root);
    }
  }

  closed(file: string): void {
    this.index.setOpen(file, false);
    this.reconcile();
  }

  schedule(root: string): void {
    const old = this.pending.get(root);
    if (old !== undefined) this.timers.clear(old);
    this.pending.set(root, this.timers.set(() => {
      this.pending.delete(root);
      this.run(root);
    }, this.delayMs));
  }

  /** Assembles `root` now and publishes the diagnostics of the files it owns. */
  run(root: string): void {
    const live = this.liveRoots();
    if (!live.has(root)) return;
    const result = this.assemble(root);
    this.results.set(root, result);
    const unit = this.index.unitOf(root);
    for (const [file, diags] of groupByFile(result, unit)) {
      if (this.index.rootOf(file) !== root && file !== root) continue;
      this.sink.publish(file, diags);
      this.published.set(file, root);
    }
    // Files this root published before but no longer includes.
    for (const [file, owner] of this.published) {
      if (owner === root && !unit.includes(file)) this.clear(file);
    }
    this.reconcile();
  }

  /** Clears diagnostics whose root no open document needs, and results nobody reads. */
  private reconcile(): void {
    const live = this.liveRoots();
    for (const [file, owner] of [...this.published]) {
      if (!live.has(owner) || this.index.rootOf(file) !== owner) {
        this.clear(file);
        const now = this.index.rootOf(file);
        if (live.has(now) && now !== owner) this.schedule(now);
      }
    }
    for (const root of [...this.results.keys()]) if (!live.has(root)) this.results.delete(root);
    for (const [root, handle] of [...this.pending]) {
      if (!live.has(root)) {
        this.timers.clear(handle);
        this.pending.delete(root);
      }
    }
  }

  private clear(file: string): void {
    this.published.delete(file);
    this.sink.publish(file, undefined);
  }

  dispose(): void {
    for (const handle of this.pending.values()) this.timers.clear(handle);
    this.pending.clear();
  }
}
