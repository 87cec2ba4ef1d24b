// Code breakpoints (line, function, instruction): each resolves to machine-physical instruction
// addresses in one or more VMs, and the engine's breakpoint at an address is shared by every
// breakpoint resolved to it (set once, removed with the last).
import type { PhysicalMemory } from '../../engine/memory/physicalMemory';
import { parseExpression, parseHitCondition } from './expression';
import type { Expression } from './expression';
import type { DebugVm } from './target';

export type CodeBreakpointKind = 'line' | 'function' | 'instruction';

export interface CodeBreakpointSpec {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface CodeBreakpoint {
  id: number;
  kind: CodeBreakpointKind;
  /** Which group replaces it (a source file, 'function', 'instruction'). */
  group: string;
  condition?: Expression;
  hit?: (hits: number) => boolean;
  logMessage?: string;
  hits: number;
  /** Where it is set: VM index and machine-physical address. */
  sites: { vm: number; mpa: number }[];
  verified: boolean;
  message?: string;
  line?: number;
}

/** Parses condition and hit condition; a bad one leaves the breakpoint unverified with the reason. */
export function compileSpec(spec: CodeBreakpointSpec): Pick<CodeBreakpoint, 'condition' | 'hit' | 'logMessage'> & { error?: string } {
  try {
    return {
      condition: spec.condition && spec.condition.trim() !== '' ? parseExpression(spec.condition) : undefined,
      hit: spec.hitCondition && spec.hitCondition.trim() !== '' ? parseHitCondition(spec.hitCondition) : undefined,
      logMessage: spec.logMessage,
    };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export class CodeBreakpointTable {
  private readonly all: CodeBreakpoint[] = [];
  private readonly byMpa = new Map<number, CodeBreakpoint[]>();

  /** Ids are shared by every kind of breakpoint (data breakpoints too): DAP's are one space. */
  constructor(private readonly memory: PhysicalMemory, private nextId = 1) {}

  newId(): number {
    return this.nextId++;
  }

  peekId(): number {
    return this.nextId;
  }

  /** Replaces every breakpoint of a group with new ones (DAP sends whole lists). */
  replaceGroup(group: string, bps: CodeBreakpoint[]): void {
    for (const old of this.all.filter((b) => b.group === group)) this.remove(old);
    for (const b of bps) this.add(b);
  }

  at(mpa: number): CodeBreakpoint[] {
    return this.byMpa.get(mpa) ?? [];
  }

  groups(): string[] {
    return [...new Set(this.all.map((b) => b.group))];
  }

  ofGroup(group: string): CodeBreakpoint[] {
    return this.all.filter((b) => b.group === group);
  }

  private add(b: CodeBreakpoint): void {
    this.all.push(b);
    for (const s of b.sites) {
      const list = this.byMpa.get(s.mpa) ?? [];
      if (list.length === 0) this.memory.addBreakpoint(s.mpa);
      list.push(b);
      this.byMpa.set(s.mpa, list);
    }
  }

  private remove(b: CodeBreakpoint): void {
    this.all.splice(this.all.indexOf(b), 1);
    for (const s of b.sites) {
      const list = (this.byMpa.get(s.mpa) ?? []).filter((x) => x !== b);
      if (list.length === 0) {
        this.byMpa.delete(s.mpa);
        this.memory.removeBreakpoint(s.mpa);
      } else this.byMpa.set(s.mpa, list);
    }
  }
}

/** Machine-physical sites of guest-physical addresses in one VM (unbacked pages skipped). */
export function sitesOf(vms: DebugVm[], perVm: (dvm: DebugVm) => number[]): { vm: number; mpa: number }[] {
  const out: { vm: number; mpa: number }[] = [];
  vms.forEach((dvm, i) => {
    for (const gpa of perVm(dvm)) {
      const mpa = dvm.space.gpaToMpa(gpa);
      if (mpa >= 0 && !out.some((s) => s.mpa === mpa)) out.push({ vm: i, mpa });
    }
  });
  return out;
}
