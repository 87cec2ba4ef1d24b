import { strict as assert } from 'node:assert';
import { evaluateExpression, parseExpression, namesIn, ExpressionError } from '../../../src/debugAdapter/inspect/expression';
import type { EvalEnv, MemSize } from '../../../src/debugAdapter/inspect/expression';

const MEM = new Map<bigint, number>();
for (let i = 0; i < 16; i++) MEM.set(0x1000n + BigInt(i), 0x10 + i);
const env: EvalEnv = {
  register: (n) => ({ rax: 5n, rbx: 0x1000n, eax: 5n, rsp: 0x1008n, rcx: 0n } as Record<string, bigint>)[n.toLowerCase()],
  symbol: (n) => ({ main: 0x400000n, 'main.loop': 0x400010n, COUNT: 3n } as Record<string, bigint>)[n],
  readMemory: (a: bigint, size: MemSize) => {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const b = MEM.get(a + BigInt(i));
      if (b === undefined) throw new ExpressionError(`cannot read 0x${a.toString(16)}`);
      v = (v << 8n) | BigInt(b);
    }
    return v;
  },
};

const CASES: [string, bigint][] = [
  ['42', 42n], ['0x2a', 42n], ['0b101010', 42n], ['0o52', 42n], ['1_000', 1000n],
  ['1 + 2 * 3', 7n], ['(1 + 2) * 3', 9n], ['10 - 3 - 2', 5n], ['17 / 5', 3n], ['17 % 5', 2n],
  ['1 << 4', 16n], ['0x100 >> 4', 16n], ['1 << 64', 0n], ['-1', 0xffffffffffffffffn], ['~0', 0xffffffffffffffffn],
  ['0 - 1 + 2', 1n], ['!0', 1n], ['!5', 0n], ['3 < 4', 1n], ['4 <= 3', 0n], ['5 > 4 && 2 >= 2', 1n],
  ['1 == 1', 1n], ['1 != 1', 0n], ['6 & 3', 2n], ['6 | 3', 7n], ['6 ^ 3', 5n], ['0 || 7', 1n],
  ['1 ? 10 : 20', 10n], ['0 ? 10 : 20', 20n], ['1 + 2 == 3', 1n], ['1 | 2 == 2', 1n],
  ['rax', 5n], ['RAX + 1', 6n], ['eax * 2', 10n], ['main', 0x400000n], ['main.loop - main', 0x10n], ['COUNT', 3n],
  ['[rbx]', 0x1716151413121110n], ['byte [rbx]', 0x10n], ['word [rbx + 1]', 0x1211n], ['dword ptr [rbx]', 0x13121110n],
  ['qword [rsp]', 0x1f1e1d1c1b1a1918n], ['byte [rbx] + byte [rbx + 1]', 0x21n], ['[rbx + 8] == 0x1f1e1d1c1b1a1918', 1n],
  ['rcx != 0 && [rcx] == 5', 0n], ['0xffffffffffffffff + 1', 0n], ['0x8000000000000000 * 2', 0n],
];

const ERRORS: [string, RegExp][] = [
  ['', /empty/], ['1 +', /ends too early/], ['(1 + 2', /expected '\)'/], ['nosuch', /unknown name 'nosuch'/],
  ['1 / 0', /division by zero/], ['5 % (rax - 5)', /division by zero/], ['[0x2000]', /cannot read/], ['12ab', /bad number/],
  ['1 2', /unexpected '2'/], ['1 # 2', /unexpected '#'/], ['byte [rbx', /expected '\]'/], ['1 ? 2', /expected ':'/],
];

describe('inspect: expressions', () => {
  for (const [src, want] of CASES) {
    it(`${src} = 0x${want.toString(16)}`, () => assert.equal(evaluateExpression(src, env), want));
  }
  for (const [src, re] of ERRORS) {
    it(`'${src}' is refused (${re.source})`, () => assert.throws(() => evaluateExpression(src, env), (e: unknown) => e instanceof ExpressionError && re.test(e.message)));
  }
  it('parses once and evaluates many times (a breakpoint condition)', () => {
    const ast = parseExpression('rax == 5 && byte [rbx] == 0x10');
    for (let i = 0; i < 3; i++) assert.equal(evaluateExpression('rax == 5 && byte [rbx] == 0x10', env), 1n);
    assert.deepEqual(namesIn(ast).sort(), ['rax', 'rbx']);
  });
});
