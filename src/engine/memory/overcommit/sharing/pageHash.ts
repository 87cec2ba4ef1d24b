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
import { PAGE_SIZE } from '../../frame';

/** A 64-bit hash as two unsigned 32-bit halves (BigInt would allocate per page). */
export interface Hash64 {
  hi: number;
  lo: number;
}

export const PAGE_WORDS = PAGE_SIZE / 4;

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
 * Hashes one page given as 1024 32-bit words (the machine's byte order: a hash is only ever
 * compared with hashes computed on the same host). Writes the result into `out` and returns it.
 */
export function hashPageWords(w: Int32Array | Uint32Array, out: Hash64): Hash64 {
  if (w.length !== PAGE_WORDS) throw new RangeError(`a page is ${PAGE_WORDS} words, not ${w.length}`);
  let v1 = (SEED + P1 + P2) | 0;
  let v2 = (SEED + P2) | 0;
  let v3 = SEED;
  let v4 = (SEED - P1) | 0;
  for (let i = 0; i < PAGE_WORDS; i += 4) {
    let a = (v1 + Math.imul(w[i], P2)) | 0;
    v1 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v2 + Math.imul(w[i + 1], P2)) | 0;
    v2 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v3 + Math.imul(w[i + 2], P2)) | 0;
    v3 = Math.imul((a << 13) | (a >>> 19), P1);
    a = (v4 + Math.imul(w[i + 3], P2)) | 0;
    v4 = Math.imul((a << 13) | (a >>> 19), P1);
  }
  // Two different linear views of the lane state, each avalanched, then cross-mixed so that a
  // change in any lane moves both halves.
  const x = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
  const y = (Math.imul(v1 ^ ((v3 << 16) | (v3 >>> 16)), P3) + Math.imul(v2 ^ ((v4 << 16) | (v4 >>> 16)), P4)) | 0;
  const lo = fmix32((x ^ Math.imul(y, P1)) + PAGE_SIZE);
  out.lo = lo;
  out.hi = fmix32((y + Math.imul(lo ^ x, P2)) | 0);
  return out;
}

/** Hashes a 4 KiB page given as bytes (a Frame's data; offset must be 4-byte aligned). */
export function hashPage(page: Uint8Array, out: Hash64): Hash64 {
  if (page.length !== PAGE_SIZE) throw new RangeError(`a page is ${PAGE_SIZE} bytes, not ${page.length}`);
  if (page.byteOffset % 4 === 0) return hashPageWords(new Int32Array(page.buffer, page.byteOffset, PAGE_WORDS), out);
  return hashPageWords(new Int32Array(page.slice().buffer), out);
}

/** The hash of a page of zeros: the scanner's shortcut to the zero frame. */
export const ZERO_PAGE_HASH: Readonly<Hash64> = Object.freeze(hashPageWords(new Int32Array(PAGE_WORDS), { hi: 0, lo: 0 }));

/** Is every byte of the page zero? (The full compare behind a ZERO_PAGE_HASH match.) */
export function isZeroPage(page: Uint8Array): boolean {
  const w = page.byteOffset % 4 === 0 ? new Int32Array(page.buffer, page.byteOffset, PAGE_WORDS) : new Int32Array(page.slice().buffer);
  for (let i = 0; i < PAGE_WORDS; i++) if (w[i] !== 0) return false;
  return true;
}

/** Full byte compare of two pages (what a hash match must pass before sharing). */
export function samePage(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== PAGE_SIZE || b.length !== PAGE_SIZE) return false;
  if (a === b) return true;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset, PAGE_WORDS);
    const y = new Int32Array(b.buffer, b.byteOffset, PAGE_WORDS);
    for (let i = 0; i < PAGE_WORDS; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < PAGE_SIZE; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hashEquals(a: Readonly<Hash64>, b: Readonly<Hash64>): boolean {
  return a.hi === b.hi && a.lo === b.lo;
}

/** Hex form for events, logs and tests ("0123456789abcdef"). */
export function hashHex(h: Readonly<Hash64>): string {
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}
