// `.phys`: code addresses from the location counter, bytes loaded elsewhere.
import { strict as assert } from 'node:assert';
import { assembleText, listing, lookupLoadAddress } from '../../../src/engine/isa/assembler';

describe('.phys (load address apart from the code address)', () => {
  const src = `
.org 0x400000
.phys 0x80000
a_start: jmp a_start
.org 0x400000
.phys 0x90000
b_start: jmp b_start
msg: .asciz "hi"
.org 0x1000
k: nop
`;
  const r = assembleText(src, 'p.s');

  it('labels take the code address, bytes go to the load address, no overlap', () => {
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.labels.get('a_start'), 0x400000);
    assert.equal(r.labels.get('b_start'), 0x400000);
    assert.equal(r.labels.get('msg'), 0x400006);
    assert.deepEqual(r.segments.map((s) => s.address), [0x1000, 0x80000, 0x90000]);
    // jmp to itself: rel32 = -6 whatever the load address.
    assert.deepEqual(Array.from(r.segments[1].bytes.subarray(2, 6)), [0xfa, 0xff, 0xff, 0xff]);
  });

  it('the source map finds the one line at each load address', () => {
    assert.equal(lookupLoadAddress(r, 0x80000)?.line, 4);
    assert.equal(lookupLoadAddress(r, 0x90000)?.line, 7);
    assert.equal(lookupLoadAddress(r, 0x90007)?.text, 'msg: .asciz "hi"');
    assert.equal(lookupLoadAddress(r, 0x1000)?.line, 10);
    assert.equal(lookupLoadAddress(r, 0x70000), undefined);
  });

  it('listings show both addresses', () => {
    assert.match(listing(r), /00400000@00090000 {2}40 af fa ff ff ff/);
  });

  it('overlapping load addresses are reported', () => {
    const bad = assembleText('.org 0x400000\n.phys 0x5000\nnop\n.org 0x5000\nnop\n', 'o.s');
    assert.equal(bad.ok, false);
    assert.match(bad.diagnostics[0].message, /overlaps/);
  });
});
