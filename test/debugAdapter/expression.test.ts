// The debugger's one expression language (runtime/expression.ts): first the grammar over a fake
// context (every operator, numbers, strings, ?:, memory sizes, functions, errors), then what
// names, memory and pte()/gpa()/mpa() mean on a real stopped vCPU in every memory mode, through
// both entry points (the runtime's vcpuEvalContext and the console's inspectEvalContext).
import { strict as assert } from 'node:assert';
import { ExpressionError, evaluateNumber, formatValue, interpolate, isTrue, parseExpression, parseHitCondition } from '../../src/debugAdapter/runtime/expression';
import type { EvalContext, Value } from '../../src/debugAdapter/runtime/expression';
import { inspectEvalContext } from '../../src/debugAdapter/inspect/evalContext';
import { runConsole } from '../../src/debugAdapter/inspect/commands';
import { MARKER, MODES, REMAPPED, REMAPPED_GPA, UNMAPPED, program, runToLabel } from './inspect/fixtures';

const MEM = new Map<bigint, number>();
for (let i = 0; i < 16; i++) MEM.set(0x1000n + BigInt(i), 0x10 + i);
const NAMES: Record<string, Value> = { rax: 5n, rbx: 0x1000n, eax: 5n, rsp: 0x1008n, rcx: 0n, main: 0x400000n, 'main.loop': 0x400010n, COUNT: 3n, reasonName: 'CR access', empty: '', 'x@1': 9n };
const fake: EvalContext = {
  lookup: (n) => NAMES[n] ?? NAMES[n.toLowerCase()],
  read: (a, size) => {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const b = MEM.get(a + BigInt(i));
      if (b === undefined) return undefined;
      v = (v << 8n) | BigInt(b);
    }
    return v;
  },
  call: (name, args) => (name === 'twice' && args.length === 1 ? args[0] * 2n : name === 'sum' ? args.reduce((a, b) => a + b, 0n) : undefined),
};

const ALL_ONES = 0xffffffffffffffffn;
const CASES: [string, Value][] = [
  // numbers
  ['42', 42n], ['0x2a', 42n], ['0X2A', 42n], ['0b101010', 42n], ['0o52', 42n], ['1_000', 1000n], ['0xffff_ffff', 0xffffffffn], ['0x1_0000_0000_0000_0001', 1n],
  // every operator, and precedence
  ['1 + 2 * 3', 7n], ['(1 + 2) * 3', 9n], ['10 - 3 - 2', 5n], ['17 / 5', 3n], ['17 % 5', 2n], ['1 << 4', 16n], ['0x100 >> 4', 16n], ['1 << 64', 0n], ['1 << 63', 0x8000000000000000n],
  ['-1', ALL_ONES], ['+7', 7n], ['~0', ALL_ONES], ['--3', 3n], ['0 - 1 + 2', 1n], ['!0', 1n], ['!5', 0n], ['!!5', 1n],
  ['3 < 4', 1n], ['4 < 3', 0n], ['4 <= 4', 1n], ['4 <= 3', 0n], ['4 > 3', 1n], ['3 > 4', 0n], ['2 >= 2', 1n], ['1 >= 2', 0n], ['-1 > 0', 1n],
  ['1 == 1', 1n], ['1 != 1', 0n], ['6 & 3', 2n], ['6 | 3', 7n], ['6 ^ 3', 5n], ['0 || 7', 1n], ['0 || 0', 0n], ['2 && 3', 1n], ['2 && 0', 0n],
  ['1 + 2 == 3', 1n], ['1 | 2 == 2', 1n], ['1 << 2 + 1', 8n], ['6 & 3 == 3', 0n], ['1 ^ 3 & 1', 0n], ['1 || 0 && 0', 1n], ['2 * 3 % 4', 2n],
  ['0xffffffffffffffff + 1', 0n], ['0x8000000000000000 * 2', 0n], ['0 - 0x10', 0xfffffffffffffff0n],
  // ?: (loosest, right-associative, short-circuit)
  ['1 ? 10 : 20', 10n], ['0 ? 10 : 20', 20n], ['0 ? 1 : 0 ? 2 : 3', 3n], ['1 ? 0 ? 4 : 5 : 6', 5n], ['1 + 1 == 2 ? 7 : 8', 7n], ['(0 ? 1 : 2) * 3', 6n],
  ['1 ? 1 : [0x9999]', 1n], ['[1 ? 0x1000 : 0] & 0xff', 0x10n], ['reasonName == "CR access" ? 1 : 2', 1n], ['empty ? 1 : 2', 2n],
  // names (case: registers through the context, labels, local labels, @ names)
  ['rax', 5n], ['RAX + 1', 6n], ['eax * 2', 10n], ['main', 0x400000n], ['main.loop - main', 0x10n], ['COUNT', 3n], ['x@1', 9n],
  // memory with sizes
  ['[rbx]', 0x1716151413121110n], ['byte [rbx]', 0x10n], ['word [rbx + 1]', 0x1211n], ['dword [rbx]', 0x13121110n], ['dword ptr [rbx]', 0x13121110n],
  ['qword [rsp]', 0x1f1e1d1c1b1a1918n], ['QWORD PTR [rsp]', 0x1f1e1d1c1b1a1918n], ['byte [rbx] + byte [rbx + 1]', 0x21n], ['[rbx + 8] == 0x1f1e1d1c1b1a1918', 1n],
  ['byte [byte [rbx] + 0xff0]', 0x10n], ['rcx != 0 && [rcx] == 5', 0n], ['rcx == 0 || [rcx] == 5', 1n],
  // strings and functions
  ['reasonName', 'CR access'], ["'single'", 'single'], ['reasonName == "CR access"', 1n], ["reasonName != 'CR access'", 0n], ['reasonName != "x"', 1n], ['"a" == "b"', 0n], ['!empty', 1n], ['"x" == 1', 0n],
  ['twice(21)', 42n], ['twice(rax + 1) + 1', 13n], ['sum()', 0n], ['sum(1, 2, 3)', 6n], ['twice(1 ? 2 : 3)', 4n],
];

const ERRORS: [string, RegExp][] = [
  ['', /empty expression/], ['   ', /empty expression/], ['1 +', /unexpected end/], ['(1 + 2', /expected '\)'/], ['nosuch', /unknown name 'nosuch'/],
  ['1 / 0', /division by zero/], ['5 % (rax - 5)', /division by zero/], ['[0x2000]', /cannot read 8 bytes at 0x2000/], ['byte [0x100f + 1]', /cannot read 1 bytes at 0x1010/],
  ['12ab', /bad number/], ['1 2', /unexpected '2' at column 3/], ['1 # 2', /unexpected '#' at column 3/], ['byte [rbx', /expected '\]'/], ['1 ? 2', /expected ':'/],
  ['"open', /unterminated string/], ['reasonName + 1', /expected a number/], ['-reasonName', /expected a number/], ['[reasonName]', /memory address: expected a number/],
  ['nosuch(1)', /unknown function 'nosuch'/], ['twice(1, 2)', /unknown function 'twice' or bad arguments/], ['twice("a")', /argument: expected a number/], ['dword ptr rbx', /expected '\['/],
];

describe('debugger expressions: the language', () => {
  for (const [src, want] of CASES) {
    it(`${src} = ${formatValue(want)}`, () => assert.equal(parseExpression(src).evaluate(fake), want));
  }
  for (const [src, re] of ERRORS) {
    it(`'${src}' is refused (${re.source})`, () => assert.throws(() => parseExpression(src).evaluate(fake), (e: unknown) => e instanceof ExpressionError && re.test(e.message)));
  }
  it('parses once and evaluates many times against a changing context (a condition)', () => {
    const e = parseExpression('rax == 5 && byte [rbx] == 0x10');
    const values = [5n, 6n, 5n].map((rax) => e.evaluate({ ...fake, lookup: (n) => (n === 'rax' ? rax : fake.lookup(n)) }));
    assert.deepEqual(values, [1n, 0n, 1n]);
  });
  it('evaluateNumber refuses strings (a command argument must be a number)', () => {
    assert.equal(evaluateNumber('rbx + 1', fake), 0x1001n);
    assert.throws(() => evaluateNumber('reasonName', fake), /expected a number/);
  });
  it('truth, formatting and logpoint interpolation', () => {
    assert.deepEqual([0n, 1n, '', 'x'].map(isTrue), [false, true, false, true]);
    assert.equal(formatValue(255n), '0xff');
    assert.equal(formatValue('a"b'), '"a\\"b"');
    assert.equal(interpolate('rax={rax} {{x}} {rax ? "yes" : "no"} {nosuch} {}', fake), 'rax=0x5 {x} yes <unknown name \'nosuch\'> <empty expression>');
  });
  const HITS: [string, number[]][] = [['3', [3, 4]], ['>= 3', [3, 4]], ['> 3', [4]], ['== 3', [3]], ['= 3', [3]], ['% 2', [2, 4]], ['< 3', [1, 2]], ['<= 3', [1, 2, 3]], ['% 0', []]];
  for (const [text, hits] of HITS) {
    it(`hit condition '${text}' is true at hits ${hits.join(', ') || 'none'} of 1..4`, () => {
      const p = parseHitCondition(text);
      assert.deepEqual([1, 2, 3, 4].filter(p), hits);
    });
  }
  it('a bad hit condition is refused', () => assert.throws(() => parseHitCondition('often'), ExpressionError));
});

describe('debugger expressions: names, memory and functions on a stopped vCPU', () => {
  for (const mode of MODES) {
    describe(`${mode} mode`, () => {
      const f = runToLabel(program('4level'), mode, 'marker_done');
      const cpu = f.v.vm.vcpus[0];
      const ctx = inspectEvalContext(f.target, f.v, 0);
      const ev = (src: string): Value => parseExpression(src).evaluate(ctx);
      const rflags = BigInt(cpu.rflags >>> 0);
      const flag = (bit: number): bigint => (rflags >> BigInt(bit)) & 1n;
      const label = (n: string): bigint => BigInt(f.program.labels.get(n)!);
      const TABLE: [string, bigint][] = [
        ['rax', MARKER], ['rbx', MARKER], ['eax', MARKER & 0xffffffffn], ['EAX', MARKER & 0xffffffffn], ['ax', MARKER & 0xffffn], ['al', MARKER & 0xffn],
        ['ebx', MARKER & 0xffffffffn], ['rsp', 0x9000n], ['esp', 0x9000n], ['r8', cpu.getReg(8)], ['rip', cpu.ripValue], ['rip', label('marker_done')],
        ['eip', cpu.ripValue & 0xffffffffn], ['rflags', rflags], ['eflags', rflags],
        ['cf', flag(0)], ['zf', flag(6)], ['ZF', flag(6)], ['sf', flag(7)], ['of', flag(11)], ['if', flag(9)], ['zf', 1n],
        ['cr0', 0x80010011n], ['cr3', 0x10000n], ['cr4', 0x20n], ['cr2', BigInt.asUintN(64, cpu.cr2)], ['efer & 0x500', 0x500n], ['cpl', 0n], ['icount', BigInt(cpu.icount)], ['icount > 0', 1n],
        ['_start', label('_start')], ['marker_done', label('marker_done')], ['PML4', 0x10000n], ['PT0 + 8', 0x13008n],
        [`[${REMAPPED}]`, MARKER], [`qword [${REMAPPED}]`, MARKER], [`dword [${REMAPPED}]`, MARKER & 0xffffffffn], [`word [${REMAPPED} + 2]`, (MARKER >> 16n) & 0xffffn], [`byte [${REMAPPED} + 7]`, MARKER >> 56n],
        [`[${REMAPPED}] == rax`, 1n], [`byte [PT0 + 0x80 * 8] & 1`, 1n],
        [`pte(${REMAPPED}) & 0xfffff000`, BigInt(REMAPPED_GPA)], [`pte(${REMAPPED} + 0x123) & 1`, 1n], [`pte(${REMAPPED}) == [PT0 + 0x80 * 8]`, 1n],
        [`gpa(${REMAPPED} + 0x10)`, BigInt(REMAPPED_GPA + 0x10)], ['gpa(0x1234)', 0x1234n], [`mpa(${REMAPPED}) & 0xfff`, 0n], [`mpa(${REMAPPED} + 5) - mpa(${REMAPPED})`, 5n],
      ];
      if (mode === 'native') TABLE.push([`mpa(${REMAPPED})`, BigInt(REMAPPED_GPA)]);
      for (const [src, want] of TABLE) it(`${src} = 0x${want.toString(16)}`, () => assert.equal(ev(src), want));

      const BAD: [string, RegExp][] = [[`[${UNMAPPED}]`, /cannot read 8 bytes/], [`byte [${UNMAPPED} + 1]`, /cannot read 1 bytes/], [`gpa(${UNMAPPED})`, /unknown function 'gpa' or bad arguments/], ['nosuch', /unknown name/], ['pte()', /bad arguments/]];
      for (const [src, re] of BAD) it(`'${src}' is refused (${re.source})`, () => assert.throws(() => ev(src), (e: unknown) => e instanceof ExpressionError && re.test(e.message)));

      it('console command arguments are the same language (?:, pte(), gpa())', () => {
        const place = { vm: 1, vcpu: 0 };
        const direct = runConsole(f.target, place, `pte ${REMAPPED}`).text;
        assert.equal(runConsole(f.target, place, `pte zf ? ${REMAPPED} : 0`).text, direct);
        assert.equal(runConsole(f.target, place, `pte gpa(${REMAPPED}) - ${REMAPPED_GPA - REMAPPED}`).text, direct);
        assert.equal(runConsole(f.target, place, `gpa(${REMAPPED})`).value, BigInt(REMAPPED_GPA));
        assert.equal(runConsole(f.target, place, `"text"`).text, '"text"');
        assert.throws(() => runConsole(f.target, place, 'walk "text"'), /expected a number/);
      });
    });
  }
});
