// One line as the assembler passes see it: includes and macros are already expanded.
import { SourceLocation } from './types';

export interface SourceLine {
  /** Where diagnostics and source-map entries point (a macro invocation for expanded lines). */
  file: string;
  line: number;
  text: string;
  /** Set for macro-expanded lines: columns of `text` are not columns of the file, so use this one. */
  fixedColumn?: number;
  /** Appended to messages about expanded lines, e.g. " (in macro 'push2')". */
  context?: string;
  /** Where an expanded line is written in its macro body. */
  definition?: SourceLocation;
  /** A preprocessing problem, reported only when the line is assembled (not in a false .if). */
  preError?: { message: string; col: number; end?: number };
}
