// The language features' model of the workspace: a scan per file (cached by text), the
// include graph built from those scans, and each file's unit (its root and what that root
// includes). vscode-free: the host feeds it texts and asks it questions.
import { FileScan, scanFile } from './scan';
import { IncludeGraph, chooseRoot } from './includeGraph';

export interface SourceReader {
  /** Current text of a file: the editor's buffer when open, else the disk; undefined if unreadable. */
  read(path: string): string | undefined;
  /** The path `include` (as written) names, relative to `fromFile`. */
  resolve(fromFile: string, include: string): string;
}

export class LanguageIndex {
  readonly graph = new IncludeGraph();
  private readonly scans = new Map<string, { text: string; scan: FileScan }>();
  private readonly openFiles = new Set<string>();

  constructor(private readonly reader: SourceReader) {}

  get open(): ReadonlySet<string> {
    return this.openFiles;
  }

  setOpen(file: string, isOpen: boolean): void {
    if (isOpen) this.openFiles.add(file);
    else this.openFiles.delete(file);
  }

  /** Every file read so far (the workspace's guest sources once the host has listed them). */
  files(): string[] {
    return [...this.scans.keys()].sort();
  }

  /** Re-reads a file (after an edit, a save, a create); returns its scan, or undefined when it cannot be read. */
  update(file: string): FileScan | undefined {
    const text = this.reader.read(file);
    if (text === undefined) {
      this.forget(file);
      return undefined;
    }
    const cached = this.scans.get(file);
    if (cached && cached.text === text) return cached.scan;
    const scan = scanFile(text);
    this.scans.set(file, { text, scan });
    this.graph.set(file, scan.includes.map((i) => this.reader.resolve(file, i.path)));
    return scan;
  }

  forget(file: string): void {
    this.scans.delete(file);
    this.graph.delete(file);
  }

  /** The scan of a file, reading it the first time it is needed. */
  scan(file: string): FileScan | undefined {
    return this.scans.get(file)?.scan ?? this.update(file);
  }

  text(file: string): string | undefined {
    if (!this.scans.has(file)) this.update(file);
    return this.scans.get(file)?.text;
  }

  /** Scans the files reachable from `file` by includes that were never read (so the graph knows them). */
  private explore(file: string): void {
    const queue = [file];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const f = queue.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      if (!this.scans.has(f) && !this.update(f)) continue;
      queue.push(...this.graph.includesOf(f));
    }
  }

  /**
   * The root `file` is assembled from (chooseRoot), preferring for a file that is not open a
   * root some open document already uses, so one assembly serves everything on screen.
   */
  rootOf(file: string): string {
    this.explore(file);
    const roots = this.graph.roots(file);
    const open = roots.find((r) => this.openFiles.has(r));
    if (open) return open;
    const live = new Set([...this.openFiles].map((f) => chooseRoot(f, this.graph, this.openFiles)));
    return roots.find((r) => live.has(r)) ?? roots[0];
  }

  /** The files assembled together with `file`: its root and everything the root includes. */
  unitOf(file: string): string[] {
    const root = this.rootOf(file);
    this.explore(root);
    return this.graph.unit(root);
  }
}
