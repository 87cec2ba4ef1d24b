// Which files include which, and the rule that decides how a file is assembled: a file that
// other files include is assembled as part of its topmost includer (its "root"), so a kernel
// fragment such as layout.s or boot.s sees the symbols its siblings define instead of
// drowning in "undefined symbol" errors.

export class IncludeGraph {
  private readonly edges = new Map<string, readonly string[]>();
  private readonly reverse = new Map<string, Set<string>>();

  /** Records the (resolved) files `file` includes, in order. */
  set(file: string, includes: readonly string[]): void {
    this.delete(file);
    this.edges.set(file, includes);
    for (const inc of includes) {
      let s = this.reverse.get(inc);
      if (!s) this.reverse.set(inc, (s = new Set()));
      s.add(file);
    }
  }

  delete(file: string): void {
    for (const inc of this.edges.get(file) ?? []) this.reverse.get(inc)?.delete(file);
    this.edges.delete(file);
  }

  has(file: string): boolean {
    return this.edges.has(file);
  }

  includesOf(file: string): readonly string[] {
    return this.edges.get(file) ?? [];
  }

  includersOf(file: string): string[] {
    return [...(this.reverse.get(file) ?? [])].sort();
  }

  /** The topmost files whose includes reach `file` (the file itself when nothing includes it). */
  roots(file: string): string[] {
    const seen = new Set<string>([file]);
    const roots = new Set<string>();
    const queue = [file];
    while (queue.length > 0) {
      const f = queue.shift()!;
      const up = this.includersOf(f).filter((g) => !seen.has(g));
      if (this.includersOf(f).length === 0) roots.add(f);
      for (const g of up) {
        seen.add(g);
        queue.push(g);
      }
    }
    // A file inside an include cycle with no outside includer is its own root.
    if (roots.size === 0) roots.add(file);
    return [...roots].sort();
  }

  /** `root` and everything it includes, transitively, in first-include order. */
  unit(root: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      out.push(f);
      for (const inc of this.includesOf(f)) visit(inc);
    };
    visit(root);
    return out;
  }
}

/**
 * The root `file` is assembled from: among its topmost includers, an open document first (the
 * user is looking at it), then the first by path. Deterministic, so every feature — diagnostics,
 * hovers, go to definition — reads the same assembly.
 */
export function chooseRoot(file: string, graph: IncludeGraph, open: ReadonlySet<string>): string {
  const roots = graph.roots(file);
  return roots.find((r) => open.has(r)) ?? roots[0];
}
