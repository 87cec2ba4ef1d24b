// What an overcommit experiment returns (docs/overcommit/experiments.md): a table — a title, the
// columns and what each means, one row per configuration, the shape the paper leads us to
// expect and the run parameters — plain data the CLI prints as text or JSON and tests check.
import type { LoadedProgram } from '../../../runner';

export type Cell = number | string | boolean | null;

export interface Column {
  key: string;
  label: string;
  /** What the column measures, for the printed legend. */
  meaning: string;
}

export interface ExperimentTable {
  id: 'a' | 'b' | 'c' | 'd';
  title: string;
  columns: Column[];
  rows: Record<string, Cell>[];
  /** The shape the published result predicts (Waldspurger 2002 and the reference). */
  expected: string;
  /** Run parameters and deviations from the paper's set-up. */
  notes: string[];
  /** MMU audit violations found at the end of any run (should be none). */
  auditViolations: string[];
}

/** Assembles a guest of examples/overcommit/ (e.g. 'active.s') with assembler defines. The
 *  engine reads no files itself: the CLI and the tests pass a loader over the repository. */
export type ProgramLoader = (file: string, defines: Record<string, bigint>) => LoadedProgram;

/** 'full': the configuration the CLI prints; 'small': the smallest that shows the shape (tests). */
export type ExperimentSize = 'full' | 'small';
