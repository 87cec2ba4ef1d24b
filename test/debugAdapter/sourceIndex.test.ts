// Frame names under `.phys`: two user programs assembled at one gva and loaded into different
// frames have labels of equal value; the frame a vCPU runs in is named by where its code is
// loaded, not by the gva both copies share.
import { strict as assert } from 'node:assert';
import { assembleText } from '../../src/engine/isa/assembler';
import { SourceIndex } from '../../src/debugAdapter/runtime/sourceIndex';

const PROGRAM = `.org 0x1000
_start:
    hlt
.org 0x400000
.phys 0x10000
proc_a:
    nop
    nop
.org 0x400000
.phys 0x20000
proc_b:
    nop
    nop
`;

describe('SourceIndex', () => {
  const r = assembleText(PROGRAM, 'two.s');
  const index = new SourceIndex(r);

  it('records each label at its load address', () => {
    assert.ok(r.ok, r.diagnostics.map((d) => d.message).join('; '));
    assert.equal(r.labels.get('proc_a'), 0x400000);
    assert.equal(r.labels.get('proc_b'), 0x400000);
    assert.equal(r.labelLoads.get('proc_a'), 0x10000);
    assert.equal(r.labelLoads.get('proc_b'), 0x20000);
  });

  const cases: [number, string, number][] = [
    [0x1000, '_start', 0],
    [0x10000, 'proc_a', 0],
    [0x10001, 'proc_a', 1],
    [0x20000, 'proc_b', 0],
    [0x20001, 'proc_b', 1],
  ];
  for (const [load, name, offset] of cases) {
    it(`names load address 0x${load.toString(16)} ${name}+${offset}`, () => {
      assert.deepEqual(index.labelBefore(load), { name, offset });
      const e = index.entryAtLoad(load);
      assert.ok(e, 'an instruction is loaded there');
    });
  }
});
