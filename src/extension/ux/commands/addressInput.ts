// What "Translate Address…" accepts: a guest-virtual address as a number (hex or decimal, `_`
// separators as the assembler allows) or any expression of the debugger's language (`rbx+8`,
// `main.loop`), which only a stopped session can evaluate.
import { hex } from '../../../debugAdapter/inspect/format';

const MAX_U64 = (1n << 64n) - 1n;

/** The number written, or undefined when the text is not a plain number. */
export function parseAddressLiteral(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) return undefined;
  const v = BigInt(t);
  return v <= MAX_U64 ? v : undefined;
}

/** Looks like a number but is not one (`0x`, `12ab`, `0xfg`): worth saying so while typing. */
function malformedNumber(t: string): boolean {
  return /^[0-9]/.test(t) && parseAddressLiteral(t) === undefined && !/[\s+\-*/()[\]&|^~<>?:!=%]/.test(t);
}

/** The input box's message for the text typed so far, or undefined when it can be submitted. */
export function checkAddressInput(text: string, sessionStopped: boolean): string | undefined {
  const t = text.trim();
  if (t === '') return 'Type a guest-virtual address (0x401000) or an expression (rbx+8, a label)';
  if (malformedNumber(t)) {
    const v = /^(0x[0-9a-f_]+|[0-9_]+)$/i.test(t) ? 'larger than 64 bits' : 'not a hex (0x…) or decimal number';
    return `'${t}' is ${v}`;
  }
  if (parseAddressLiteral(t) === undefined && !sessionStopped) return 'An expression needs a stopped vmem debug session: start debugging, or type a number';
  return undefined;
}

/** The number written as canonical lower-case 0x hex (the form the panel and the history compare). */
export function addressLiteralHex(text: string): string | undefined {
  const v = parseAddressLiteral(text);
  return v === undefined ? undefined : hex(v);
}
