// The content hash of a 4 KiB page, as the sharing scanner computes it for every page it offers
// (ESX: Bob Jenkins' 64-bit hash; KSM: xxhash). A hash match only nominates a candidate: the
// table always compares the full pages before sharing, so the hash needs speed and spread, not
// cryptographic strength. bench/sharing.ts measures this function against the WebAssembly xxhash
// libraries; docs/overcommit/sharing.md has the figures and why this one was kept.
//
// The hash is xxh32's four-lane round (multiply, rotate, multiply; four independent lanes so the
// CPU overlaps them) run over the page's 1024 32-bit words, with 128 bits of lane state folded
// into 64 bits by two murmur3 finalisers that each see all four lanes. Each round is a bijection
// of its lane for a fixed word, so pages differing in one word always reach different lane states;
// the fold then spreads them over all 64 output bits. 32-bit integer arithmetic only (Math.imul):
// no BigInt on the hot path.
import { PAGE_SIZE, PAGE_WORDS } from '../../frame';
import type { FrameWords } from '../../frame';

export { PAGE_WORDS };
export type { FrameWords };

/** PAGE_WORDS as a literal of this module: the loops' bound (an imported binding is a property load per iteration in the emitted CommonJS). */
const WORDS = 1024;
if (WORDS !== PAGE_WORDS) throw new Error('pageHash assumes 4 KiB pages');

/** A 64-bit hash as two unsigned 32-bit halves (BigInt would allocate per page). */
export interface Hash64 {
  hi: number;
  lo: number;
}

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const SEED = 0x5eed5eed | 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * What a frame never written reads as. Hosts hand this very array out for such frames, so the
 * zero test on them costs one comparison (never write into it).
 */
export const ZERO_PAGE_WORDS = new Int32Array(PAGE_WORDS);

/**
 * Hashes the page `words[at … at+1023]` (32-bit words in the machine's byte order: a hash is only
 * ever compared with hashes computed on the same host). Writes the result into `out` and returns
 * it. Words, not bytes, and an offset rather than a view: frames live in slabs, and a typed-array
 * view made per page costs as much as a tenth of the hash.
 */
export function hashWords(w: Int32Array, at: number, out: Hash64): Hash64 {
  if (!(at >= 0 && at + PAGE_WORDS <= w.length)) throw new RangeError(`no page of ${PAGE_WORDS} words at word ${at} of ${w.length}`);
  let v1 = (SEED + P1 + P2) | 0;
  let v2 = (SEED + P2) | 0;
  let v3 = SEED;
  let v4 = (SEED - P1) | 0;
  // Two rounds of the four lanes per iteration, and a loop counter with a constant bound (the
  // index is at + j): both measurably faster in V8 than `for (i = at; i < at + 1024; i += 4)`.
  for (let j = 0; j < WORDS; j += 8) {
    const i = at + j;
    let a = (v1 + Math.imul(w[i], P2)) | 0;
    v1 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v2 + Math.imul(w[i + 1], P2)) | 0;
    v2 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v3 + Math.imul(w[i + 2], P2)) | 0;
    v3 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v4 + Math.imul(w[i + 3], P2)) | 0;
    v4 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v1 + Math.imul(w[i + 4], P2)) | 0;
    v1 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v2 + Math.imul(w[i + 5], P2)) | 0;
    v2 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v3 + Math.imul(w[i + 6], P2)) | 0;
    v3 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v4 + Math.imul(w[i + 7], P2)) | 0;
    v4 = Math.imul((a << 13) | (a >>> 19), P1);
  }
  // Two different linear views of the lane state, each avalanched, then cross-mixed so that a
  // change in any lane moves both halves.
  const x = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  const y = (Math.imul(v1 ^ rotl(v3, 16), P3) + Math.imul(v2 ^ rotl(v4, 16), P4)) | 0;
  const lo = fmix32((x ^ Math.imul(y, P1)) + PAGE_SIZE);
  out.lo = lo;
  out.hi = fmix32((y + Math.imul(lo ^ x, P2)) | 0);
  return out;
}

function rotl(v: number, r: number): number {
  return (v << r) | (v >>> (32 - r));
}

/** Hashes one page given as exactly 1024 32-bit words. */
export function hashPageWords(w: Int32Array | Uint32Array, out: Hash64): Hash64 {
  if (w.length !== PAGE_WORDS) throw new RangeError(`a page is ${PAGE_WORDS} words, not ${w.length}`);
  return hashWords(w instanceof Int32Array ? w : new Int32Array(w.buffer, w.byteOffset, PAGE_WORDS), 0, out);
}

/** A 4 KiB page of bytes as words: a view when 4-byte aligned, else a copy. */
export function pageWords(page: Uint8Array): FrameWords {
  if (page.length !== PAGE_SIZE) throw new RangeError(`a page is ${PAGE_SIZE} bytes, not ${page.length}`);
  if (page.byteOffset % 4 === 0) return { words: new Int32Array(page.buffer, page.byteOffset, PAGE_WORDS), at: 0 };
  return { words: new Int32Array(page.slice().buffer), at: 0 };
}

/** Hashes a 4 KiB page given as bytes. */
export function hashPage(page: Uint8Array, out: Hash64): Hash64 {
  const p = pageWords(page);
  return hashWords(p.words, p.at, out);
}

/** The hash of a page of zeros: the scanner's shortcut to the zero frame. */
export const ZERO_PAGE_HASH: Readonly<Hash64> = Object.freeze(hashWords(ZERO_PAGE_WORDS, 0, { hi: 0, lo: 0 }));

/** Is every word of the page zero? (Stops at the first non-zero word: nearly free for other pages.) */
export function isZeroWords(w: Int32Array, at: number): boolean {
  if (w === ZERO_PAGE_WORDS) return true;
  for (let j = 0; j < WORDS; j++) if (w[at + j] !== 0) return false;
  return true;
}

/** Is every byte of the page zero? (The full compare behind a ZERO_PAGE_HASH match.) */
export function isZeroPage(page: Uint8Array): boolean {
  const p = pageWords(page);
  return isZeroWords(p.words, p.at);
}

/** Full compare of two pages given as words (what a hash match must pass before sharing). */
export function sameWords(a: Int32Array, ai: number, b: Int32Array, bi: number): boolean {
  if (a === b && ai === bi) return true;
  for (let i = 0; i < WORDS; i++) if (a[ai + i] !== b[bi + i]) return false;
  return true;
}

/** Full byte compare of two pages. */
export function samePage(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== PAGE_SIZE || b.length !== PAGE_SIZE) return false;
  if (a === b) return true;
  const x = pageWords(a);
  const y = pageWords(b);
  return sameWords(x.words, x.at, y.words, y.at);
}
export function hashEquals(a: Readonly<Hash64>, b: Readonly<Hash64>): boolean {
  return a.hi === b.hi && a.lo === b.lo;
}

/** Hex form for events, logs and tests ("0123456789abcdef"). */
export function hashHex(h: Readonly<Hash64>): string {
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}
