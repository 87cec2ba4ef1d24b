// Regressions for the shadow-mode fidelity bugs the differential test found (docs/vmm/shadow.md,
// "Fidelity fixes"): each small program runs natively and in shadow mode (trace, a 1-root
// cache, unsync), audited after every instruction, and what the guest sees must be native's.
import { strict as assert } from 'node:assert';
import { assembleOk } from '../../../support/runAsm';
import { differingPages, observe } from './shadowTestUtil';
import type { Observed } from './shadowTestUtil';
import { FORMATS } from './programs';
import { selfMapWrite, sharedTablesInvlpg, staleTracedWrite, pt2Base } from './fidelityPrograms';
import type { VirtualVmOptions } from '../../../../src/engine/vmm/virtualVm';

const reg = (o: Observed, i: number): bigint => o.vm.vcpus[0].getReg(i);
const CONFIGS: [string, VirtualVmOptions['modeOptions']][] = [
  ['trace', { shadow: { sync: 'trace' } }],
  ['trace, 1-root cache', { shadow: { sync: 'trace', rootCacheSize: 1 } }],
  ['unsync', { shadow: { sync: 'unsync' } }],
];

function sameAsNative(shadow: Observed, native: Observed): void {
  assert.deepEqual(shadow.audits, [], 'audit');
  assert.deepEqual(shadow.stopReasons, native.stopReasons, 'how the run ended');
  assert.deepEqual(shadow.vm.vcpus[0].snapshot(), native.vm.vcpus[0].snapshot(), 'registers');
  assert.deepEqual(shadow.exceptions, native.exceptions, 'exceptions');
  assert.deepEqual(differingPages(native.vm, shadow.vm), [], 'guest memory incl. A/D bits');
}

const cases: { name: string; src: (f: (typeof FORMATS)[number]) => string; check: (native: Observed, f: (typeof FORMATS)[number]) => void }[] = [
  {
    name: 'a store through a mapping of a page table that the fill itself starts tracing is emulated',
    src: (f) => selfMapWrite(f, false),
    check: (n) => assert.equal(reg(n, 8), 0x22n),
  },
  {
    name: 'the same store through a read-only mapping (CR0.WP=1) is a true #PF',
    src: (f) => selfMapWrite(f, true),
    check: (n, f) => {
      assert.equal(reg(n, 12), 3n, 'P|W');
      assert.equal(reg(n, 13), BigInt(pt2Base(f) + 5 * 4096 + 6 * (f === '32bit' ? 4 : 8)));
    },
  },
  {
    name: 'a store through a stale TLB entry onto a traced table sets no A/D on the new PTE',
    src: staleTracedWrite,
    check: (n) => {
      assert.equal(reg(n, 9), 0x43003n, 'new PTE untouched');
      assert.equal(reg(n, 10), 0x44003n, 'the store went to the old frame');
      assert.equal(reg(n, 11), 0n);
    },
  },
  {
    name: 'INVLPG after a PTE change resyncs it under every root sharing the table',
    src: sharedTablesInvlpg,
    check: (n) => {
      assert.equal(reg(n, 8), 0x11n);
      assert.equal(reg(n, 9), 0x22n);
    },
  },
];

describe('shadow mode: fidelity regressions (found by the differential test)', () => {
  for (const c of cases) {
    describe(c.name, () => {
      for (const f of FORMATS) {
        const prog = assembleOk(c.src(f));
        const native = observe(prog, { mode: 'native' });
        it(`${f}: native does what the program expects`, () => c.check(native, f));
        for (const [label, modeOptions] of CONFIGS) {
          it(`${f}, ${label}: the guest sees what native sees`, () => {
            sameAsNative(observe(prog, { mode: 'shadow', auditEachStep: true, modeOptions }), native);
          });
        }
      }
    });
  }
});
