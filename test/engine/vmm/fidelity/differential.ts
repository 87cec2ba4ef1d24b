// One program against native in one configuration: the verdict (agree, a difference the
// architecture explains, or a fidelity failure) and, for failures, a shrunk reproducer.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleOk } from '../../../support/runAsm';
import type { GeneratedProgram } from '../../../support/guestGen/generate';
import { digestPages, firstLargeSloppyOp, firstSloppyOp, renderProgram } from '../../../support/guestGen/generate';
import type { Op } from '../../../support/guestGen/ops';
import type { RunOptions } from '../../../../src/engine/runner';
import type { ComparedConfig } from './modes';
import { Difference, GuestTrace, ModeConfig, firstDifference, runTrace } from './trace';
import { shrink } from './shrink';

export const NATIVE: ModeConfig = { label: 'native', mode: 'native' };

export type Verdict =
  | { kind: 'agree' }
  | { kind: 'explained'; diff: Difference; sloppyOp: number; reason: string }
  | { kind: 'failure'; diff: Difference; why: string };

/**
 * Judges a difference (or none) under a rule. `exact`: equal, except from the first flush-less
 * large-page edit on (Op.largeSloppy). `cache`: a program with no sloppy operation must
 * agree exactly; otherwise the first difference must come at or after the first sloppy one.
 * A difference in the final state (console, registers, memory) of a program with a sloppy
 * operation comes after it by construction.
 */
export function judge(diff: Difference | null, rule: ComparedConfig['rule'], ops: readonly Op[]): Verdict {
  if (!diff) return { kind: 'agree' };
  const startsAt = (op: number): boolean => op >= 0 && (diff.part !== 'log' || (diff.opId !== undefined && diff.opId >= op));
  if (rule === 'exact') {
    // The one variation an exact mode may show: a stale large-page translation cached in 4 KiB pieces.
    const large = firstLargeSloppyOp(ops);
    if (startsAt(large)) return { kind: 'explained', diff, sloppyOp: large, reason: 'large page cached as 4 KiB pieces' };
    return { kind: 'failure', diff, why: large < 0 ? 'must agree exactly with native' : `must agree exactly with native before op ${large} (a flush-less large-page edit)` };
  }
  const sloppy = firstSloppyOp(ops);
  if (sloppy < 0) return { kind: 'failure', diff, why: 'every paging-structure write is flushed, so it must agree exactly with native' };
  if (diff.part === 'log' && diff.opId !== undefined && diff.opId < sloppy) {
    return { kind: 'failure', diff, why: `the difference starts at op ${diff.opId}, before the first unflushed write (op ${sloppy})` };
  }
  return { kind: 'explained', diff, sloppyOp: sloppy, reason: 'translation cached longer or shorter' };
}

export interface Compared {
  verdict: Verdict;
  auditMessage?: string;
}

function traceOf(p: GeneratedProgram, ops: readonly Op[], cfg: ModeConfig, extra: RunOptions = {}): GuestTrace {
  return runTrace(assembleOk(renderProgram(p, ops)), cfg, digestPages(p.format), extra);
}

/** Compares one configuration's trace with native's (already computed). */
export function compare(native: GuestTrace, p: GeneratedProgram, program: ReturnType<typeof assembleOk>, cfg: ComparedConfig, audit: boolean): Compared {
  const t = runTrace(program, cfg, digestPages(p.format), audit ? { audit: true, auditEvery: 1 } : {});
  const auditMessage = /MMU audit failed/.test(t.exit) ? t.exit : undefined;
  return { verdict: judge(firstDifference(native, t), cfg.rule, p.ops), auditMessage };
}

/** Drops operations while the failure persists; writes the reproducer to a file; says all of it in words. */
export function reproducer(p: GeneratedProgram, cfg: ComparedConfig, failure: Extract<Verdict, { kind: 'failure' }>, audit: boolean): string {
  const fails = (ops: readonly Op[]): boolean => {
    const n = traceOf(p, ops, NATIVE);
    const t = traceOf(p, ops, cfg, audit ? { audit: true } : {});
    return judge(firstDifference(n, t), cfg.rule, ops).kind === 'failure';
  };
  let ops: readonly Op[] = p.ops;
  let diff = failure.diff;
  try {
    ops = shrink(p.ops, fails, 80);
    const v = judge(firstDifference(traceOf(p, ops, NATIVE), traceOf(p, ops, cfg)), cfg.rule, ops);
    if (v.kind === 'failure') diff = v.diff;
  } catch (e) {
    ops = p.ops;
    void e;
  }
  const file = join(tmpdir(), `vmem-fidelity-${p.seed}-${cfg.label.replace(/[^a-z0-9]+/gi, '_')}.s`);
  let saved = file;
  try {
    writeFileSync(file, renderProgram(p, ops));
  } catch {
    saved = '(could not write the reproducer)';
  }
  return [
    `seed ${p.seed} (${p.format}, ${p.sloppy ? 'sloppy' : 'synced'}), ${cfg.label}: ${failure.why}`,
    `  first difference (native ≠ ${cfg.label}): ${failure.diff.text}`,
    `  shrunk from ${p.ops.length} to ${ops.length} operations; then: ${diff.text}`,
    ...ops.map((o) => `    op ${o.id}: ${o.what}${o.largeSloppy ? ' [sloppy, large page]' : o.sloppy ? ' [sloppy]' : ''}`),
    `  reproducer: ${saved}  (node dist/cli.js run FILE --compare native,${cfg.mode})`,
  ].join('\n');
}
