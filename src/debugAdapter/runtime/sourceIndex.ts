// Fast queries over one VM's assembled program for the debugger: which source line a
// guest-physical address executes (binary search: stepping asks once per instruction), which
// load addresses a line or a label has, and the label a code address belongs to.
import type { AssembleResult, SourceMapEntry } from '../../engine/isa/assembler';

export class SourceIndex {
  private readonly byLoad: SourceMapEntry[];
  private readonly insnLines = new Map<string, number[]>();
  private readonly sortedLabels: [number, string][];

  constructor(readonly program: AssembleResult) {
    this.byLoad = program.sourceMap.slice().sort((a, b) => a.loadAddress - b.loadAddress);
    const lines = new Map<string, Set<number>>();
    for (const e of program.sourceMap) {
      if (e.kind !== 'insn') continue;
      const set = lines.get(e.file) ?? new Set<number>();
      set.add(e.line);
      lines.set(e.file, set);
    }
    for (const [f, set] of lines) this.insnLines.set(f, [...set].sort((a, b) => a - b));
    // Local labels (main.loop) name their function poorly: prefer global ones for frames.
    // By load address: code placed with `.phys` at one gva from several frames (two user programs)
    // has labels of equal value, told apart only by where they are loaded.
    this.sortedLabels = [...program.labelLoads].filter(([n]) => !n.includes('.')).map(([n, a]): [number, string] => [a, n]).sort((a, b) => a[0] - b[0]);
  }

  get files(): string[] {
    return [...this.insnLines.keys()];
  }

  /** The entry whose bytes are loaded at gpa. */
  entryAtLoad(gpa: number): SourceMapEntry | undefined {
    const m = this.byLoad;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = m[mid];
      if (gpa < e.loadAddress) hi = mid - 1;
      else if (gpa >= e.loadAddress + e.length) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  /** The nearest line at or after `line` (else before it) that has an instruction in `file`. */
  nearestInsnLine(file: string, line: number): number | undefined {
    const lines = this.insnLines.get(file);
    if (!lines || lines.length === 0) return undefined;
    const after = lines.find((l) => l >= line);
    return after ?? lines[lines.length - 1];
  }

  /** Guest-physical load addresses of the instructions a line produced (macro lines included). */
  loadAddressesOfLine(file: string, line: number): number[] {
    return this.program.sourceMap.filter((e) => e.kind === 'insn' && e.file === file && e.line === line).map((e) => e.loadAddress);
  }

  /** Load addresses of the instruction at a label's code address (one per `.phys` copy). */
  loadAddressesOfLabel(name: string): number[] | undefined {
    const addr = this.program.labels.get(name);
    if (addr === undefined) return undefined;
    return this.program.sourceMap.filter((e) => e.kind === 'insn' && e.address === addr).map((e) => e.loadAddress);
  }

  /** The global label loaded at or before a guest-physical load address (a frame's name). */
  labelBefore(address: number): { name: string; offset: number } | undefined {
    const l = this.sortedLabels;
    let lo = 0;
    let hi = l.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (l[mid][0] <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : { name: l[found][1], offset: address - l[found][0] };
  }

  /** The entry loaded right before this one (the previous instruction in memory), if adjacent. */
  entryEndingAt(gpa: number): SourceMapEntry | undefined {
    const e = this.entryAtLoad(gpa - 1);
    return e && e.loadAddress + e.length === gpa ? e : undefined;
  }
}
