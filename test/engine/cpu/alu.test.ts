// Differential test of the ALU against a BigInt model of the x86 flag rules, over generated
// operands at every size (edge values and a seeded random spread).
import { strict as assert } from 'node:assert';
import { AluResult, ArithFlags, addSub, logic, shift, toBig } from '../../../src/engine/cpu/alu';
import { rng } from '../../support/rng';

interface Expected { value: bigint; cf: number; of: number; zf: number; sf: number; pf: number }

function parity(v: bigint): number {
  let b = Number(v & 0xffn);
  let n = 0;
  while (b) { n += b & 1; b >>= 1; }
  return n % 2 === 0 ? 1 : 0;
}

function model(op: string, a: bigint, b: bigint, bits: number, cin: number, count = 0): Expected {
  const m = (1n << BigInt(bits)) - 1n;
  const s = (x: bigint): bigint => BigInt.asIntN(bits, x);
  let v: bigint; let cf = 0; let of = 0;
  switch (op) {
    case 'add': case 'adc': {
      const c = op === 'adc' ? BigInt(cin) : 0n;
      v = (a + b + c) & m; cf = a + b + c > m ? 1 : 0;
      const sr = s(a) + s(b) + c; of = sr !== s(v) ? 1 : 0; break;
    }
    case 'sub': case 'sbb': {
      const c = op === 'sbb' ? BigInt(cin) : 0n;
      v = (a - b - c) & m; cf = a < b + c ? 1 : 0;
      const sr = s(a) - s(b) - c; of = sr !== s(v) ? 1 : 0; break;
    }
    case 'and': v = a & b; break;
    case 'or': v = a | b; break;
    case 'xor': v = a ^ b; break;
    case 'shl': v = (a << BigInt(count)) & m; cf = Number((a >> BigInt(bits - count)) & 1n); of = Number((v >> BigInt(bits - 1)) & 1n) ^ cf; break;
    case 'shr': v = a >> BigInt(count); cf = Number((a >> BigInt(count - 1)) & 1n); of = Number((a >> BigInt(bits - 1)) & 1n); break;
    default: v = BigInt.asUintN(bits, s(a) >> BigInt(count)); cf = Number((s(a) >> BigInt(count - 1)) & 1n); of = 0; break;
  }
  return { value: v, cf, of, zf: v === 0n ? 1 : 0, sf: Number((v >> BigInt(bits - 1)) & 1n), pf: parity(v) };
}

function halves(v: bigint): [number, number] {
  return [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
}

describe('ALU flags (differential against a BigInt model)', () => {
  const sizes = [1, 2, 4, 8];
  const edges = (bits: number): bigint[] => {
    const m = (1n << BigInt(bits)) - 1n;
    const h = 1n << BigInt(bits - 1);
    return [0n, 1n, 2n, m, m - 1n, h, h - 1n, h + 1n, 0x80n & m, 0x7fn & m];
  };
  const r = rng(1234);
  const cases: [bigint, bigint][] = [];
  for (const size of sizes) {
    const bits = size * 8;
    const m = (1n << BigInt(bits)) - 1n;
    for (const a of edges(bits)) for (const b of edges(bits)) cases.push([a, b]);
    for (let i = 0; i < 300; i++) cases.push([r.big64() & m, r.big64() & m]);
  }
  let checked = 0;
  for (const op of ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor']) {
    it(`${op}: value and CF OF ZF SF PF at every size`, () => {
      for (const size of sizes) {
        const bits = size * 8;
        const m = (1n << BigInt(bits)) - 1n;
        for (const [a0, b0] of cases) {
          const a = a0 & m; const b = b0 & m;
          for (const cin of op === 'adc' || op === 'sbb' ? [0, 1] : [0]) {
            const f = new ArithFlags(); const res = new AluResult();
            const [aLo, aHi] = halves(a); const [bLo, bHi] = halves(b);
            if (op === 'add' || op === 'adc') addSub(f, res, aLo, aHi, bLo, bHi, size, false, cin);
            else if (op === 'sub' || op === 'sbb') addSub(f, res, aLo, aHi, bLo, bHi, size, true, cin);
            else logic(f, res, op === 'and' ? 0 : op === 'or' ? 1 : 2, aLo, aHi, bLo, bHi, size);
            const e = model(op, a, b, bits, cin);
            const got = toBig(res.lo, res.hi) & m;
            const ctx = `${op} size ${size} a=${a.toString(16)} b=${b.toString(16)} cin=${cin}`;
            assert.equal(got, e.value, ctx);
            assert.deepEqual([f.cf, f.of, f.zf, f.sf, f.pf], [e.cf, e.of, e.zf, e.sf, e.pf], ctx + ' flags [cf of zf sf pf]');
            checked++;
          }
        }
      }
    });
  }
  for (const op of ['shl', 'shr', 'sar'] as const) {
    it(`${op}: value, CF and OF for every count`, () => {
      for (const size of sizes) {
        const bits = size * 8;
        const m = (1n << BigInt(bits)) - 1n;
        for (const [a0] of cases.slice(0, 200)) {
          const a = a0 & m;
          for (let count = 1; count < bits; count += count < 3 ? 1 : 7) {
            const f = new ArithFlags(); const res = new AluResult();
            const [aLo, aHi] = halves(a);
            assert.ok(shift(f, res, op === 'shl' ? 0 : op === 'shr' ? 1 : 2, aLo, aHi, count, size));
            const e = model(op, a, 0n, bits, 0, count);
            const ctx = `${op} size ${size} a=${a.toString(16)} count=${count}`;
            assert.equal(toBig(res.lo, res.hi) & m, e.value, ctx);
            assert.deepEqual([f.cf, f.zf, f.sf, f.pf], [e.cf, e.zf, e.sf, e.pf], ctx);
            if (count === 1) assert.equal(f.of, e.of, ctx + ' OF');
          }
        }
      }
    });
  }
  after(() => assert.ok(checked > 5000, `only ${checked} ALU cases ran`));
});
