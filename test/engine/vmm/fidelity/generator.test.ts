// The differential test's own machinery: the generator reaches what it claims to (every
// operation kind, every #PF error-code bit, faults at CPL 0 and 3, both paging formats), runs
// are deterministic, the comparison sees planted differences, the judge applies its rules, and
// the shrinker finds a minimal failing subset.
import { strict as assert } from 'node:assert';
import { assembleOk } from '../../../support/runAsm';
import { digestPages, generateProgram, renderProgram } from '../../../support/guestGen/generate';
import type { Op } from '../../../support/guestGen/ops';
import { judge, NATIVE } from './differential';
import { firstDifference, runTrace } from './trace';
import { shrink } from './shrink';

describe('fidelity machinery: the guest-program generator', () => {
  const N = 80;
  const programs = Array.from({ length: N }, (_, i) => generateProgram(1000 + i));

  it('is deterministic: the same seed gives the same program', () => {
    assert.equal(renderProgram(generateProgram(5)), renderProgram(generateProgram(5)));
    assert.notEqual(renderProgram(generateProgram(5)), renderProgram(generateProgram(6)));
  });

  it(`covers every operation kind, both paging formats, synced and sloppy programs (${N} programs)`, () => {
    const kinds = new Set(programs.flatMap((p) => p.ops.map((o) => o.kind)));
    for (const k of ['access', 'pte', 'pde', 'upper', 'cr3', 'wp', 'smep', 'smap', 'nxe', 'ac', 'invlpg', 'reload']) assert.ok(kinds.has(k as Op['kind']), `no '${k}' operation`);
    assert.ok(programs.some((p) => p.format === 'long4') && programs.some((p) => p.format === 'legacy32'));
    assert.ok(programs.some((p) => p.sloppy) && programs.some((p) => !p.sloppy));
    assert.ok(programs.some((p) => p.ops.some((o) => o.largeSloppy)), 'some flush-less large-page edit');
    assert.ok(programs.every((p) => p.sloppy || p.ops.every((o) => !o.sloppy)), 'synced programs have no sloppy operation');
  });

  it('its guests take #PF with every error-code bit, #UD, at CPL 0 and CPL 3, and the runs are deterministic', () => {
    const bits = new Set<number>();
    const vectors = new Set<number>();
    const cpls = new Set<number>();
    for (const p of programs.slice(0, 40)) {
      const program = assembleOk(renderProgram(p));
      const a = runTrace(program, NATIVE, digestPages(p.format));
      const b = runTrace(program, NATIVE, digestPages(p.format));
      assert.equal(firstDifference(a, b), null, `seed ${p.seed}: native vs native`);
      for (const e of a.log) {
        const v = Number(e.tag & 0xffn);
        if (v === 0xff) continue;
        vectors.add(v);
        cpls.add(Number((e.tag >> 8n) & 3n));
        if (v === 14) for (const bit of [1, 2, 4, 8, 16]) if (Number(e.a) & bit) bits.add(bit);
      }
    }
    assert.deepEqual([...bits].sort((x, y) => x - y), [1, 2, 4, 8, 16], '#PF error code bits P W U RSVD I/D');
    assert.ok(vectors.has(14) && vectors.has(6), `vectors seen: ${[...vectors]}`);
    assert.deepEqual([...cpls].sort(), [0, 3]);
  });
});

describe('fidelity machinery: comparison, judgement, shrinking', () => {
  const p = generateProgram(3, { format: 'long4', ops: 20 });
  const program = assembleOk(renderProgram(p));
  const base = runTrace(program, NATIVE, digestPages(p.format));

  it('sees a planted difference in each part of the trace', () => {
    const clone = (): typeof base => ({ ...base, log: base.log.map((e) => ({ ...e })), regs: base.regs.map(([k, v]) => [k, v] as [string, bigint]), pages: new Map([...base.pages].map(([k, v]) => [k, v.slice()])) });
    const a = clone();
    a.log[3].a ^= 1n;
    assert.equal(firstDifference(base, a)?.part, 'log');
    assert.equal(firstDifference(base, a)?.opId, Number(base.log[3].tag >> 16n));
    const b = clone();
    b.regs[2][1] ^= 4n;
    assert.equal(firstDifference(base, b)?.part, 'registers');
    const c = clone();
    const [gpa, bytes] = [...c.pages][5];
    bytes[0x123] ^= 0x20; // an A bit, say
    assert.match(firstDifference(base, c)?.text ?? '', new RegExp(`0x${(gpa + 0x120).toString(16)}`));
    const d = clone();
    d.log.pop();
    assert.match(firstDifference(base, d)?.text ?? '', /no entry/);
  });

  it('judges: exact rule fails any difference before a large-page edit; cache rule explains only from the first sloppy op', () => {
    const op = (id: number, sloppy: boolean, largeSloppy = false): Op => ({ id, kind: 'pte', what: '', text: '', sloppy, largeSloppy });
    const at = (opId: number) => ({ part: 'log' as const, opId, text: '' });
    const end = { part: 'memory' as const, text: '' };
    assert.equal(judge(null, 'exact', []).kind, 'agree');
    assert.equal(judge(at(3), 'exact', [op(1, true)]).kind, 'failure');
    assert.equal(judge(at(3), 'exact', [op(1, true, true)]).kind, 'explained');
    assert.equal(judge(at(0), 'exact', [op(1, true, true)]).kind, 'failure');
    assert.equal(judge(at(3), 'cache', [op(1, false), op(2, false)]).kind, 'failure');
    assert.equal(judge(end, 'cache', [op(1, false)]).kind, 'failure');
    assert.equal(judge(at(1), 'cache', [op(0, false), op(1, true)]).kind, 'explained');
    assert.equal(judge(at(0), 'cache', [op(0, false), op(1, true)]).kind, 'failure');
    assert.equal(judge(end, 'cache', [op(0, false), op(1, true)]).kind, 'explained');
  });

  it('shrinks to a minimal failing subset', () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const calls: number[] = [];
    const out = shrink(items, (xs) => {
      calls.push(xs.length);
      return xs.includes(7) && xs.includes(23);
    });
    assert.deepEqual(out, [7, 23]);
    assert.ok(calls.length < 120, `${calls.length} tries`);
    assert.deepEqual(shrink(items, () => true), []);
  });
});
