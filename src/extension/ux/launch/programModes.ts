// Which ways a guest program can be debugged, read from its `; modes:` header (the convention of
// examples/README.md: `; modes: native shadow nested shadow-unsync`). Each name becomes a set of
// launch attributes, so the Run and Debug dropdown can offer "Debug in shadow mode (unsync)".
import type { MemoryMode } from '../../../engine/vm';

/** The launch attributes a mode name stands for (besides `program`). */
export interface ModeChoice {
  /** The name as written in a `; modes:` header. */
  name: string;
  mode: MemoryMode;
  shadowSync?: 'trace' | 'unsync';
  eptPageSize?: '4k' | '2m' | '1g';
  /** Assembler symbols the mode needs, e.g. PV=1 for the teaching kernel's paravirtual variant. */
  defines?: Record<string, number>;
  /** Words for a menu: "shadow mode, unsync". */
  title: string;
}

const CHOICES: Readonly<Record<string, Omit<ModeChoice, 'name'>>> = {
  native: { mode: 'native', title: 'native mode' },
  shadow: { mode: 'shadow', title: 'shadow mode' },
  nested: { mode: 'nested', title: 'nested mode' },
  paravirt: { mode: 'paravirt', title: 'paravirtual mode' },
  'shadow-unsync': { mode: 'shadow', shadowSync: 'unsync', title: 'shadow mode, unsync' },
  'nested-2m': { mode: 'nested', eptPageSize: '2m', title: 'nested mode, 2 MiB EPT pages' },
};

/** What a program without a `; modes:` header runs in: the modes every guest can run under. */
export const DEFAULT_MODE_NAMES = ['native', 'shadow', 'nested'] as const;

const MODES_RE = /^\s*;\s*modes:\s*(.*)$/m;
/** The teaching kernel has a paravirtual variant selected by PV=1 (examples/README.md). */
const KERNEL_INCLUDE_RE = /^\s*\.include\s+"(?:[^"]*\/)?kernel\/kernel\.s"/m;

export function modeChoice(name: string): ModeChoice | undefined {
  const c = CHOICES[name];
  return c ? { name, ...c } : undefined;
}

/**
 * The modes a program declares, or the default ones; a program on the teaching kernel without a
 * header also runs paravirtualized with PV=1. Unknown names in a header are skipped (the examples
 * test owns their validity), so a typo never breaks F5.
 */
export function programModes(source: string): ModeChoice[] {
  const m = MODES_RE.exec(source);
  if (m) return m[1].trim().split(/\s+/).flatMap((n) => modeChoice(n) ?? []);
  const out = DEFAULT_MODE_NAMES.map((n) => modeChoice(n)!);
  if (KERNEL_INCLUDE_RE.test(source)) out.push({ ...modeChoice('paravirt')!, defines: { PV: 1 }, title: 'paravirtual mode (PV=1)' });
  return out;
}
