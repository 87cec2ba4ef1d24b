// The EPT entry and EPTP formats, bit-exact, and the misconfiguration rules over every XWR
// combination and memory type (generated), so a change to the checks shows up here first.
import { strict as assert } from 'node:assert';
import {
  describeEptEntry, eptIsLeaf, eptMisconfiguration, eptTarget, makeEptp, makeLeaf, makeTable,
} from '../../../../src/engine/vmm/nested';

describe('nested: EPT formats', () => {
  it('a 4 KiB leaf is R/W/X | WB (5:3 = 6) | ignore-PAT | address; a 2 MiB leaf adds bit 7', () => {
    assert.deepEqual(makeLeaf(1, 0x1234000, { read: true, write: true, execute: true }), [0x1234077, 0]);
    assert.deepEqual(makeLeaf(1, 0x1234000, { read: true, write: false, execute: false }), [0x1234071, 0]);
    assert.deepEqual(makeLeaf(2, 0x40200000, { read: true, write: true, execute: true }), [0x402000f7, 0]);
    assert.deepEqual(makeLeaf(3, 2 ** 33, { read: true, write: true, execute: true }), [0xf7, 2]);
    assert.deepEqual(makeTable(0x5000), [0x5007, 0]);
    assert.equal(eptTarget(2, 0x402000f7, 0, 40), 0x40200000);
    assert.equal(eptTarget(3, 0xc00000f7, 1, 40), 2 ** 32 + 0xc0000000);
    assert.ok(eptIsLeaf(2, 0x80 | 7) && !eptIsLeaf(4, 0x80 | 7) && eptIsLeaf(1, 7));
  });

  it('EPTP: memory type WB in 2:0, walk length − 1 in 5:3, A/D enable in bit 6', () => {
    assert.equal(makeEptp(0x10000, 4, false), 0x1001en);
    assert.equal(makeEptp(0x10000, 4, true), 0x1005en);
    assert.equal(makeEptp(0x10000, 5, false), 0x10026n);
  });

  it('misconfigurations: every XWR at every level, every leaf memory type (generated)', () => {
    let checked = 0;
    for (let level = 1; level <= 4; level++) {
      for (let xwr = 1; xwr < 8; xwr++) {
        for (let mt = 0; mt < 8; mt++) {
          const leaf = level === 1;
          const lo = 0x5000 | xwr | (leaf ? (mt << 3) | 0x40 : 0);
          const bad = eptMisconfiguration(level, lo, 0, 40);
          const expectBad = xwr === 2 || xwr === 6 || xwr === 4 || (leaf && (mt === 2 || mt === 3 || mt === 7));
          assert.equal(bad !== null, expectBad, `level ${level} XWR=${xwr.toString(2)} MT=${mt}: ${bad}`);
          checked++;
          if (!leaf) break;
        }
      }
    }
    assert.equal(checked, 7 * 8 + 3 * 7);
  });

  it('reserved bits by position: 7:3 in non-leaf entries, 20:12 in 2 MiB and 29:12 in 1 GiB leaves, 51:M everywhere', () => {
    for (let b = 3; b <= 7; b++) assert.match(eptMisconfiguration(4, 0x5007 | (1 << b), 0, 40) ?? '', new RegExp(`bit ${b}`));
    for (let b = 3; b <= 6; b++) assert.ok(eptMisconfiguration(2, 0x5007 | (1 << b), 0, 40));
    for (let b = 12; b <= 20; b++) assert.ok(eptMisconfiguration(2, 0x200000 | 0xf7 | (1 << b), 0, 40), `2 MiB bit ${b}`);
    assert.equal(eptMisconfiguration(2, 0x200000 | 0xf7, 0, 40), null);
    for (let b = 12; b <= 29; b++) assert.ok(eptMisconfiguration(3, 0x40000000 | 0xf7 | (1 << b), 0, 40), `1 GiB bit ${b}`);
    for (let b = 40; b <= 51; b++) assert.ok(eptMisconfiguration(1, 0x5077, 1 << (b - 32), 40), `bit ${b} ≥ MAXPHYADDR`);
    assert.equal(eptMisconfiguration(1, 0x5077, 1 << 7, 40), null, 'bit 39 < MAXPHYADDR 40');
    assert.equal(eptMisconfiguration(1, 0x5077 | 0xf80, 0xfff00000, 40), null, 'bits 7 (4 KiB), 8–11, 52–63 are ignored');
  });

  it('entries in words, Bochs-style', () => {
    assert.equal(describeEptEntry(1, 0x1234377, 0), 'EPT PTE 0x1234377: R W X WB IPAT A D');
    assert.equal(describeEptEntry(2, 0x200000f1, 0), 'EPT PDE 0x200000f1: R WB IPAT LARGE');
    assert.equal(describeEptEntry(4, 0, 0), 'EPT PML4E 0x0: not present');
  });
});
