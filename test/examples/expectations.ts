// The expectation block an example carries in its comments, and how a run is checked against it.
//   ; expect-exit: 0            the guest's exit status (or `halted`: it stopped on hlt)
//   ; expect-console: text      a console line; lines must appear in this order (others may interleave)
//   ; expect-not-console: text  a console line that must not appear anywhere
//   ; expect-min: COUNTER N     a counter is at least N   (also expect-max, expect-exact)
//   ; variants: PAGING=64 PAGING=32   run once per assembler define; a key written
//                               expect-console[32]: … applies only where a define has value 32
//   ; modes: native shadow nested     the memory modes it runs in (default: native, shadow,
//                               nested — those built in); expect-min[shadow]: … applies to one mode
//   ; balloon-target: 0:300 2.5:100   the host's balloon targets (seconds:pages), run option
//                               devices.balloon.schedule — the memory scheduler's stand-in
import type { RunOptions, RunSummary } from '../../src/engine/runner';
import { parseTargetSchedule } from '../../src/engine/memory/overcommit/balloon/targetSchedule';

export type CounterName = keyof typeof COUNTERS;

/** The counters an example may name, read from a run's summary. */
export const COUNTERS = {
  'instructions': (s: RunSummary) => s.instructions,
  'page-faults': (s: RunSummary) => s.faults.pageFaults,
  'page-faults-not-present': (s: RunSummary) => s.faults.notPresent,
  'page-faults-protection': (s: RunSummary) => s.faults.protection,
  'timer-interrupts': (s: RunSummary) => s.interrupts.timer,
  'syscalls': (s: RunSummary) => s.interrupts.software,
  'invlpg': (s: RunSummary) => s.events.invlpg ?? 0,
  'cr3-writes': (s: RunSummary) => s.events['cr3-write'] ?? 0,
  'tlb-flushes': (s: RunSummary) => s.tlb.flushes,
  'tlb-hits': (s: RunSummary) => s.tlb.hits,
  'tlb-misses': (s: RunSummary) => s.tlb.misses,
  'hidden-faults': (s: RunSummary) => s.faults.hiddenFaults,
  'vm-exits': (s: RunSummary) => s.exits.total,
} as const satisfies Record<string, (s: RunSummary) => number>;

export interface CounterBound {
  counter: CounterName;
  op: 'min' | 'max' | 'exact';
  value: number;
  line: number;
}

export interface Expectations {
  exit: number | 'halted' | undefined;
  console: string[];
  notConsole: string[];
  counters: CounterBound[];
}

const LINE_RE = /^\s*;\s*expect-([a-z-]+)(?:\[([^\]]+)\])?:\s?(.*)$/;
const VARIANTS_RE = /^\s*;\s*variants:\s*(.*)$/m;
const MODES_RE = /^\s*;\s*modes:\s*(.*)$/m;
export const DEFAULT_EXAMPLE_MODES = ['native', 'shadow', 'nested'];

/**
 * The configurations an example may name in `; modes:`: a memory mode, or a mode with options.
 * `exact` ones must print exactly what the first one prints; the others model a difference the
 * architecture (or a VMM's documented choice) allows, and say so in their expectations.
 */
export const EXAMPLE_CONFIGS: Record<string, { mode: string; modeOptions?: RunOptions['modeOptions']; exact: boolean }> = {
  native: { mode: 'native', exact: true },
  shadow: { mode: 'shadow', exact: true },
  nested: { mode: 'nested', exact: true },
  paravirt: { mode: 'paravirt', exact: false },
  'shadow-unsync': { mode: 'shadow', modeOptions: { shadow: { sync: 'unsync' } }, exact: false },
  'nested-2m': { mode: 'nested', modeOptions: { nested: { eptPageSize: '2m' } }, exact: true },
};

const BALLOON_TARGET_RE = /^\s*;\s*balloon-target:\s*(.*)$/m;

/** The host's balloon target schedule an example declares (`; balloon-target: 0:300 2.5:100`), if any. */
export function parseBalloonTargets(source: string): { at: number; pages: number }[] | undefined {
  const m = BALLOON_TARGET_RE.exec(source);
  return m ? parseTargetSchedule(m[1]) : undefined;
}

/** The memory modes an example declares (`; modes: native shadow`), or the default ones. */
export function parseModes(source: string): string[] {
  const m = MODES_RE.exec(source);
  return m ? m[1].trim().split(/\s+/) : DEFAULT_EXAMPLE_MODES;
}

/** One way to assemble an example: the defines it gets, e.g. { PAGING: 32n }. */
export interface Variant {
  label: string;
  defines: Record<string, bigint>;
}

/** The variants an example declares (`; variants: PAGING=64 PAGING=32`), or one plain run. */
export function parseVariants(source: string): Variant[] {
  const m = VARIANTS_RE.exec(source);
  if (!m) return [{ label: '', defines: {} }];
  return m[1].trim().split(/\s+/).map((item) => {
    const d = /^([A-Za-z_]\w*)=(-?\d+)$/.exec(item);
    if (!d) throw new Error(`variants: expected NAME=NUMBER, got '${item}'`);
    return { label: item, defines: { [d[1]]: BigInt(d[2]) } };
  });
}

function appliesTo(qualifier: string | undefined, variant: Variant | undefined, mode: string | undefined): boolean {
  if (qualifier === undefined) return true;
  if (mode !== undefined && qualifier === mode) return true;
  if (!variant) return false;
  return qualifier === variant.label || Object.values(variant.defines).some((v) => String(v) === qualifier);
}

/**
 * Reads the expectation block for one variant; an unknown key or counter is an error, so a
 * typo cannot pass silently.
 */
export function parseExpectations(source: string, variant?: Variant, mode?: string): Expectations | undefined {
  const out: Expectations = { exit: undefined, console: [], notConsole: [], counters: [] };
  let found = false;
  source.split(/\r?\n/).forEach((text, i) => {
    const m = LINE_RE.exec(text);
    if (!m) return;
    found = true;
    const [, key, qualifier, rawValue] = m;
    if (!appliesTo(qualifier, variant, mode)) return;
    const value = rawValue.replace(/\s+$/, '');
    switch (key) {
      case 'exit':
        out.exit = value === 'halted' ? 'halted' : parseNumber(value, i + 1);
        return;
      case 'console':
        out.console.push(value);
        return;
      case 'not-console':
        out.notConsole.push(value);
        return;
      case 'min':
      case 'max':
      case 'exact': {
        const [name, n, ...rest] = value.split(/\s+/);
        if (!(name in COUNTERS) || n === undefined || rest.length > 0) {
          throw new Error(`line ${i + 1}: expected 'expect-${key}: COUNTER N' with COUNTER one of ${Object.keys(COUNTERS).join(', ')}`);
        }
        out.counters.push({ counter: name as CounterName, op: key, value: parseNumber(n, i + 1), line: i + 1 });
        return;
      }
      default:
        throw new Error(`line ${i + 1}: unknown expectation 'expect-${key}'`);
    }
  });
  return found ? out : undefined;
}

function parseNumber(text: string, line: number): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n)) throw new Error(`line ${line}: '${text}' is not a whole number`);
  return n;
}

/** Every problem of a run against its expectations; empty when it meets them all. */
export function checkRun(e: Expectations, s: RunSummary): string[] {
  const problems: string[] = [];
  if (e.exit === 'halted') {
    if (s.exit.reason !== 'halted') problems.push(`expected the guest to halt, got: ${s.exit.message}`);
  } else if (e.exit !== undefined && (s.exit.reason !== 'shutdown' || s.exit.status !== e.exit)) {
    problems.push(`expected exit status ${e.exit}, got: ${s.exit.message}`);
  }
  const lines = s.console.split('\n');
  let at = 0;
  for (const want of e.console) {
    const k = lines.indexOf(want, at);
    if (k < 0) {
      const anywhere = lines.includes(want);
      problems.push(anywhere ? `console line '${want}' appears, but not after the lines expected before it` : `console line '${want}' is missing`);
    } else at = k + 1;
  }
  for (const bad of e.notConsole) if (lines.includes(bad)) problems.push(`console line '${bad}' must not appear`);
  for (const b of e.counters) {
    const got = COUNTERS[b.counter](s);
    const ok = b.op === 'min' ? got >= b.value : b.op === 'max' ? got <= b.value : got === b.value;
    if (!ok) problems.push(`${b.counter} = ${got}, expected ${b.op} ${b.value}`);
  }
  return problems;
}
