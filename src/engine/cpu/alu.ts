// Integer arithmetic on 64-bit values held as two 32-bit halves, with x86 flag semantics.
// Results land in the Flags object's fields so nothing is allocated per instruction.

export class AluResult {
  lo = 0;
  hi = 0;
}

/** The arithmetic flags, kept unpacked; rflags is assembled only when read. */
export class ArithFlags {
  cf = 0;
  zf = 0;
  sf = 0;
  of = 0;
  af = 0;
  /** Low byte of the last result; PF is its even parity, computed when read. */
  pfByte = 0;

  get pf(): number {
    let b = this.pfByte & 0xff;
    b ^= b >> 4;
    b ^= b >> 2;
    b ^= b >> 1;
    return (~b) & 1;
  }
}

const TWO32 = 4294967296;

/** Masks a value to `size` bytes (size < 8); hi is then 0. */
export function maskLo(v: number, size: number): number {
  return size === 4 ? v >>> 0 : size === 2 ? v & 0xffff : size === 1 ? v & 0xff : v >>> 0;
}

function setZSP(f: ArithFlags, lo: number, hi: number, size: number): void {
  f.zf = (lo | hi) === 0 ? 1 : 0;
  f.sf = size === 8 ? hi >>> 31 : (lo >>> (size * 8 - 1)) & 1;
  f.pfByte = lo & 0xff;
}

/** a + b + cin (sub=false) or a - b - cin (sub=true), setting CF OF ZF SF PF AF. */
export function addSub(f: ArithFlags, r: AluResult, aLo: number, aHi: number, bLo: number, bHi: number, size: number, sub: boolean, cin: number): void {
  aLo >>>= 0;
  bLo >>>= 0;
  if (size === 8) {
    aHi >>>= 0;
    bHi >>>= 0;
    let lo: number;
    let hi: number;
    if (!sub) {
      lo = aLo + bLo + cin;
      const c = lo >= TWO32 ? 1 : 0;
      hi = aHi + bHi + c;
      f.cf = hi >= TWO32 ? 1 : 0;
      lo >>>= 0;
      hi >>>= 0;
      f.of = (((aHi ^ hi) & (bHi ^ hi)) >>> 31) & 1;
    } else {
      lo = aLo - bLo - cin;
      const c = lo < 0 ? 1 : 0;
      hi = aHi - bHi - c;
      f.cf = hi < 0 ? 1 : 0;
      lo >>>= 0;
      hi >>>= 0;
      f.of = (((aHi ^ bHi) & (aHi ^ hi)) >>> 31) & 1;
    }
    f.af = ((aLo ^ bLo ^ lo) >>> 4) & 1;
    r.lo = lo;
    r.hi = hi;
    setZSP(f, lo, hi, 8);
    return;
  }
  const bits = size * 8;
  const a = maskLo(aLo, size);
  const b = maskLo(bLo, size);
  let v = sub ? a - b - cin : a + b + cin;
  f.cf = sub ? (v < 0 ? 1 : 0) : v > (size === 4 ? 0xffffffff : (1 << bits) - 1) ? 1 : 0;
  v = maskLo(v, size);
  const sa = (a >>> (bits - 1)) & 1;
  const sb = (b >>> (bits - 1)) & 1;
  const sr = (v >>> (bits - 1)) & 1;
  f.of = sub ? (sa !== sb && sr !== sa ? 1 : 0) : (sa === sb && sr !== sa ? 1 : 0);
  f.af = ((a ^ b ^ v) >>> 4) & 1;
  r.lo = v;
  r.hi = 0;
  setZSP(f, v, 0, size);
}

/** and / or / xor: CF = OF = 0. */
export function logic(f: ArithFlags, r: AluResult, kind: 0 | 1 | 2, aLo: number, aHi: number, bLo: number, bHi: number, size: number): void {
  let lo: number;
  let hi: number;
  if (kind === 0) {
    lo = aLo & bLo;
    hi = aHi & bHi;
  } else if (kind === 1) {
    lo = aLo | bLo;
    hi = aHi | bHi;
  } else {
    lo = aLo ^ bLo;
    hi = aHi ^ bHi;
  }
  if (size === 8) {
    lo >>>= 0;
    hi >>>= 0;
  } else {
    lo = maskLo(lo, size);
    hi = 0;
  }
  f.cf = 0;
  f.of = 0;
  f.af = 0;
  r.lo = lo;
  r.hi = hi;
  setZSP(f, lo, hi, size);
}

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function toSignedBig(lo: number, hi: number, size: number): bigint {
  return BigInt.asIntN(size * 8, toBig(lo, hi));
}

export function fromBig(r: AluResult, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  r.lo = Number(u & 0xffffffffn);
  r.hi = Number(u >> 32n);
}

/**
 * Shifts (SHL/SHR/SAR) with x86 flag rules: the count is masked to 6 bits (64-bit) or 5 bits;
 * a zero count leaves every flag alone; CF is the last bit shifted out; OF is defined for a
 * count of 1 (for larger counts this machine applies the same formula — documented in docs/isa.md).
 * Returns false when the count is zero (flags and destination unchanged).
 */
export function shift(f: ArithFlags, r: AluResult, kind: 0 | 1 | 2, aLo: number, aHi: number, count: number, size: number): boolean {
  count &= size === 8 ? 63 : 31;
  if (count === 0) return false;
  const bits = size * 8;
  const a = toBig(aLo, size === 8 ? aHi : 0) & ((1n << BigInt(bits)) - 1n);
  const n = BigInt(count);
  let v: bigint;
  let cf: bigint;
  const mask = (1n << BigInt(bits)) - 1n;
  if (kind === 0) {
    v = (a << n) & mask;
    cf = count <= bits ? (a >> BigInt(bits - count)) & 1n : 0n;
  } else if (kind === 1) {
    v = a >> n;
    cf = (a >> (n - 1n)) & 1n;
  } else {
    const s = BigInt.asIntN(bits, a);
    v = BigInt.asUintN(bits, s >> n);
    cf = (s >> (n - 1n)) & 1n;
  }
  f.cf = Number(cf);
  const msb = Number((v >> BigInt(bits - 1)) & 1n);
  if (kind === 0) f.of = msb ^ f.cf;
  else if (kind === 1) f.of = Number((a >> BigInt(bits - 1)) & 1n);
  else f.of = 0;
  fromBig(r, v);
  setZSP(f, r.lo, r.hi, size);
  return true;
}

// ---- 64-bit fast paths over the register file (the executor's specialised handlers).
// Each produces exactly the result and flags of addSub/logic with size 8 (and cin 0), as the
// differential test in test/engine/cpu/alu.test.ts checks; results are stored as int32 halves.

/** lo[d]:hi[d] += b. */
export function add64(f: ArithFlags, lo: Int32Array, hi: Int32Array, d: number, bLo: number, bHi: number): void {
  const aLo = lo[d];
  const aHi = hi[d];
  const s = (aLo >>> 0) + (bLo >>> 0);
  const h = (aHi >>> 0) + (bHi >>> 0) + (s > 0xffffffff ? 1 : 0);
  const rLo = s | 0;
  const rHi = h | 0;
  f.cf = h > 0xffffffff ? 1 : 0;
  f.of = ((aHi ^ rHi) & (bHi ^ rHi)) >>> 31;
  f.af = ((aLo ^ bLo ^ rLo) >>> 4) & 1;
  f.zf = (rLo | rHi) === 0 ? 1 : 0;
  f.sf = rHi >>> 31;
  f.pfByte = rLo & 0xff;
  lo[d] = rLo;
  hi[d] = rHi;
}

/** lo[d]:hi[d] - b, stored unless `write` is false (CMP). */
export function sub64(f: ArithFlags, lo: Int32Array, hi: Int32Array, d: number, bLo: number, bHi: number, write: boolean): void {
  const aLo = lo[d];
  const aHi = hi[d];
  const s = (aLo >>> 0) - (bLo >>> 0);
  const h = (aHi >>> 0) - (bHi >>> 0) - (s < 0 ? 1 : 0);
  const rLo = s | 0;
  const rHi = h | 0;
  f.cf = h < 0 ? 1 : 0;
  f.of = ((aHi ^ bHi) & (aHi ^ rHi)) >>> 31;
  f.af = ((aLo ^ bLo ^ rLo) >>> 4) & 1;
  f.zf = (rLo | rHi) === 0 ? 1 : 0;
  f.sf = rHi >>> 31;
  f.pfByte = rLo & 0xff;
  if (write) {
    lo[d] = rLo;
    hi[d] = rHi;
  }
}

/** and (0) / or (1) / xor (2) into lo[d]:hi[d], stored unless `write` is false (TEST). */
export function logic64(f: ArithFlags, lo: Int32Array, hi: Int32Array, d: number, kind: 0 | 1 | 2, bLo: number, bHi: number, write: boolean): void {
  const aLo = lo[d];
  const aHi = hi[d];
  const rLo = kind === 0 ? aLo & bLo : kind === 1 ? aLo | bLo : aLo ^ bLo;
  const rHi = kind === 0 ? aHi & bHi : kind === 1 ? aHi | bHi : aHi ^ bHi;
  f.cf = 0;
  f.of = 0;
  f.af = 0;
  f.zf = (rLo | rHi) === 0 ? 1 : 0;
  f.sf = rHi >>> 31;
  f.pfByte = rLo & 0xff;
  if (write) {
    lo[d] = rLo;
    hi[d] = rHi;
  }
}
