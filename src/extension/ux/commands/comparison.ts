// "Compare Modes": one guest program run headless in every mode it supports, in bounded slices so
// the extension host keeps answering and a cancel takes effect within one slice, then shown as the
// CLI's `--compare` table (the same code, src/engine/summaryText.ts) with the 2-D walk cost that
// only nested paging has. No vscode import: the command wraps this in a progress notification.
import { DEFAULT_MAX_STEPS, startProgram, summarize } from '../../../engine/runner';
import type { LoadedProgram, RunOptions, RunSummary } from '../../../engine/runner';
import { formatComparison } from '../../../engine/summaryText';
import { NestedMmu } from '../../../engine/vmm/nested/nestedMmu';
import type { ModeChoice } from '../launch/programModes';

export interface TwoDWalks {
  walks: number;
  references: number;
}

export interface ComparedRun {
  choice: ModeChoice;
  summary: RunSummary;
  /** Nested paging only: completed 2-D walks and their memory references. */
  twoD: TwoDWalks | null;
}

/** A mode whose program did not assemble (a define it needs breaks the source, say). */
export interface FailedRun {
  choice: ModeChoice;
  error: string;
}

export interface CompareControl {
  cancelled(): boolean;
  /** Called before each slice: which run, and how far it has got. */
  progress(index: number, choice: ModeChoice, instructions: number): void;
  /** Lets the host breathe between slices (setImmediate in the extension). */
  pause(): Promise<void>;
  maxSteps?: number;
  /** Instructions per slice. */
  slice?: number;
}

export const DEFAULT_SLICE = 200_000;

function optionsFor(c: ModeChoice, maxSteps: number): RunOptions {
  return {
    mode: c.mode,
    maxSteps,
    modeOptions: { shadow: { sync: c.shadowSync ?? 'trace' }, nested: { eptPageSize: c.eptPageSize ?? '4k' } },
  };
}

/**
 * Runs each mode to the end (or maxSteps). `programFor` assembles the program with a mode's
 * defines (PV=1 for the paravirtual kernel): a LoadedProgram, or the assembler's error text.
 * Undefined when cancelled.
 */
export async function runComparison(
  programFor: (defines: Record<string, number>) => LoadedProgram | string,
  choices: readonly ModeChoice[],
  control: CompareControl,
): Promise<{ runs: ComparedRun[]; failed: FailedRun[] } | undefined> {
  const maxSteps = control.maxSteps ?? DEFAULT_MAX_STEPS;
  const slice = control.slice ?? DEFAULT_SLICE;
  const runs: ComparedRun[] = [];
  const failed: FailedRun[] = [];
  for (const [i, choice] of choices.entries()) {
    const program = programFor(choice.defines ?? {});
    if (typeof program === 'string') {
      failed.push({ choice, error: program });
      continue;
    }
    const options = optionsFor(choice, maxSteps);
    const { vm, stats } = startProgram(program, options);
    let engineError: string | undefined;
    while (!vm.stopped && vm.icount < maxSteps) {
      if (control.cancelled()) return undefined;
      control.progress(i, choice, vm.icount);
      try {
        vm.run(Math.min(slice, maxSteps - vm.icount));
      } catch (e) {
        engineError = `engine error: ${e instanceof Error ? e.message : String(e)}`;
        break;
      }
      await control.pause();
    }
    const port = vm.mmus[0];
    const twoD = port instanceof NestedMmu ? { walks: port.vmm.translator.walks, references: port.vmm.translator.walkReferences } : null;
    runs.push({ choice, summary: summarize(vm, stats, engineError), twoD });
  }
  return { runs, failed };
}

const n = (v: number): string => v.toLocaleString('en-US');

/** A file name in markdown text: its markup characters taken literally. */
const md = (s: string): string => s.replace(/[\\`*_[\]<>|]/g, (c) => '\\' + c);

/** The report: the CLI's table (columns named by mode choice), then what the table cannot hold. */
export function comparisonMarkdown(program: string, result: { runs: readonly ComparedRun[]; failed: readonly FailedRun[] }, maxSteps = DEFAULT_MAX_STEPS): string {
  const { runs, failed } = result;
  const out: string[] = [`# Compare modes: ${md(program)}`, ''];
  out.push(`Each mode ran headless from reset to the end (at most ${n(maxSteps)} instructions). A mode is invisible to the guest when its console output and true page faults match native; the hypervisor's cost shows in hidden faults, VM exits and TLB misses.`, '');
  if (runs.length > 0) {
    out.push('```text', formatComparison(program.replace(/`/g, "'"), runs.map((r) => r.summary), runs.map((r) => r.choice.name)).trimEnd(), '```', '');
  }
  const walks = runs.filter((r) => r.twoD && r.twoD.walks > 0);
  if (walks.length > 0) {
    out.push('## 2-D page walks (nested paging)', '');
    for (const r of walks) {
      const t = r.twoD!;
      out.push(`- **${r.choice.name}**: ${n(t.walks)} walks, ${n(t.references)} memory references (${(t.references / t.walks).toFixed(1)} per walk; a cold 4-level walk on 4-level EPT makes (4+1)(4+1)−1 = 24)`);
    }
    out.push('');
  }
  const ended = runs.filter((r) => !r.summary.exit.ok);
  if (ended.length > 0 || failed.length > 0) {
    out.push('## Runs that did not finish cleanly', '');
    for (const r of ended) out.push(`- **${r.choice.name}**: ${r.summary.exit.message}`);
    for (const f of failed) out.push(`- **${f.choice.name}**: not run — ${f.error}`);
    out.push('');
  }
  return out.join('\n');
}
