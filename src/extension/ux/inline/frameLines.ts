// Which lines above the stopped one belong to the same routine, so inline values cover the code
// that led here (as VS Code's own inline values do for a function) and not the routine before.
import { tokenize } from '../../../engine/isa/assembler/lexer';

/** Lines scanned upwards at most: inline values are for what is on screen, not the whole file. */
export const MAX_FRAME_LINES = 40;

/** A routine starts at a global label (`name:`); local ones (`.loop:`) stay inside it. */
function startsRoutine(text: string): boolean {
  const toks = tokenize(text).tokens;
  return toks[0]?.kind === 'ident' && !toks[0].text.startsWith('.') && toks[1]?.kind === 'op' && toks[1].text === ':';
}

/** The first line (0-based) of the routine holding `stopped`, never more than MAX_FRAME_LINES above it. */
export function routineStart(lineAt: (line: number) => string, stopped: number): number {
  const floor = Math.max(0, stopped - MAX_FRAME_LINES);
  for (let l = stopped; l > floor; l--) if (startsRoutine(lineAt(l))) return l;
  return floor;
}
