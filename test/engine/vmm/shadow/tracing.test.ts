// Memory tracing, the D-bit catch, CR0.WP=0 emulation, the root cache and unsync, each on small
// bare-metal programs in every paging format, with the MMU audit run after every instruction
// and the guest-visible outcome compared with native mode.
import { strict as assert } from 'node:assert';
import { assembleOk } from '../../../support/runAsm';
import { differingPages, observe } from './shadowTestUtil';
import type { Observed } from './shadowTestUtil';
import { FORMATS, cr3Switches, sloppyEviction, tracedWrites } from './programs';

const reg = (o: Observed, i: number): bigint => o.vm.vcpus[0].getReg(i);
const R = { rbx: 3, rsi: 6, rdi: 7, r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14 };

function sameAsNative(shadow: Observed, native: Observed): void {
  assert.deepEqual(shadow.audits, [], 'audit');
  assert.deepEqual(shadow.vm.vcpus[0].snapshot(), native.vm.vcpus[0].snapshot(), 'registers');
  assert.deepEqual(shadow.exceptions, native.exceptions, 'exceptions');
  assert.deepEqual(differingPages(native.vm, shadow.vm), [], 'guest memory incl. A/D bits');
}

describe('shadow mode: memory tracing', () => {
  for (const f of FORMATS) {
    describe(`${f} guest`, () => {
      const prog = assembleOk(tracedWrites(f));
      const native = observe(prog, { mode: 'native' });
      const shadow = observe(prog, { mode: 'shadow', auditEachStep: true });

      it('native reference run does what the program expects', () => {
        assert.equal(reg(native, R.r8), 0n);
        assert.equal(reg(native, R.r9), 0n, 'stale TLB entry after a PTE store without INVLPG');
        assert.equal(reg(native, R.r10), 0x11n);
        assert.equal(reg(native, R.r11), 0x22n, 'RMW on the PTE');
        assert.equal(reg(native, R.r14), 0x33n, 'page-crossing store into the next table');
        assert.equal(reg(native, R.rsi), 0x55n);
        assert.equal(reg(native, R.rdi), 0x66n);
        assert.equal(reg(native, R.r12), 3n, 'WP=1 supervisor write to a read-only page: P|W');
        assert.equal(reg(native, R.r13), 0x91000n);
      });

      it('registers, exceptions (error code, CR2) and memory are native\'s; audit clean after every step', () => {
        sameAsNative(shadow, native);
      });

      it('each store to a traced table is a hidden fault with a pt-write; the crossing store traps on both tables', () => {
        const writes = shadow.events.filter((e) => e.kind === 'pt-write');
        // PTE 0x80, the RMW, two halves of the crossing store, PTEs 0x90 and 0x91 (the fill loop ran before paging).
        assert.equal(writes.length, 6);
        const crossing = writes.slice(2, 4);
        assert.equal(crossing[0].icount, crossing[1].icount);
        assert.equal(crossing[1].gpa - crossing[0].gpa, 4n);
        const hidden = shadow.events.filter((e) => e.kind === 'page-fault' && e.hidden && e.reason.startsWith('write to a traced'));
        assert.equal(hidden.length, 6);
        assert.ok(writes.some((e) => e.kind === 'pt-write' && e.shadowEntriesChanged > 0), 'a store zapped a live shadow entry');
      });

      it('CR0.WP=0 writes are emulated as KVM does and the WP=1 write is a true fault', () => {
        const pf = shadow.events.filter((e) => e.kind === 'page-fault');
        assert.ok(pf.some((e) => e.kind === 'page-fault' && e.hidden && e.reason.includes('spte U=0, W=1')));
        const truePf = pf.filter((e) => e.kind === 'page-fault' && !e.hidden);
        assert.equal(truePf.length, 1);
        assert.equal(truePf[0].kind === 'page-fault' && truePf[0].errorCode, 3);
        assert.equal(shadow.monitor!.exitCounts.get(0), pf.length, 'one exit per #PF, hidden or true');
      });

      it('catches the first write to a clean page (D) with a hidden fault', () => {
        assert.ok(shadow.events.some((e) => e.kind === 'page-fault' && e.hidden && e.reason.includes('D-bit catch')));
      });

      it('exits on CR3 loads, CR0/CR4 paging bits and INVLPG', () => {
        const ex = shadow.monitor!.exitCounts;
        assert.equal(ex.get(14), 2, 'INVLPG');
        assert.ok((ex.get(28) ?? 0) >= 3, 'CR access');
      });
    });
  }
});

describe('shadow mode: a guest that skips INVLPG', () => {
  for (const f of FORMATS) {
    it(`${f}: under trace it sees what native sees once the TLB entry is gone`, () => {
      const prog = assembleOk(sloppyEviction(f));
      const native = observe(prog, { mode: 'native' });
      const shadow = observe(prog, { mode: 'shadow', auditEachStep: true });
      sameAsNative(shadow, native);
      assert.equal(reg(native, R.r9), 0n, 'stale while the TLB entry lives');
      assert.equal(reg(native, R.r10), 0x11n, 'evicted: the walk sees the new PTE');
    });
    it(`${f}: under unsync the stale mapping outlives the TLB entry until INVLPG`, () => {
      const prog = assembleOk(sloppyEviction(f));
      const shadow = observe(prog, { mode: 'shadow', auditEachStep: true, modeOptions: { shadow: { sync: 'unsync' } } });
      assert.deepEqual(shadow.audits, []);
      assert.equal(reg(shadow, R.r9), 0n);
      assert.equal(reg(shadow, R.r10), 0n, 'stale shadow entry: the old frame');
      assert.equal(reg(shadow, R.r11), 0x11n, 'INVLPG resynced it');
      const sync = shadow.events.filter((e) => e.kind === 'shadow-sync' && e.cause === 'INVLPG');
      assert.equal(sync.length, 1);
      assert.equal(sync[0].kind === 'shadow-sync' && sync[0].entriesChanged, 1);
      assert.equal(shadow.events.filter((e) => e.kind === 'pt-write').length, 0, 'leaf tables are not traced');
    });
  }
});

describe('shadow mode: CR3 switches and the root cache', () => {
  const prog = assembleOk(cr3Switches(10));
  const native = observe(prog, { mode: 'native' });
  it('switching back hits the cache; the guest sees what native sees', () => {
    const s = observe(prog, { mode: 'shadow', auditEachStep: true });
    sameAsNative(s, native);
    const m = s.shadow!.mmus[0];
    assert.deepEqual(m.rootStats, { hits: 19, misses: 2 });
    assert.ok((s.monitor!.exitCounts.get(28) ?? 0) >= 21);
  });
  it('a cache of one root rebuilds on every switch (more hidden faults)', () => {
    const big = observe(prog, { mode: 'shadow' });
    const one = observe(prog, { mode: 'shadow', modeOptions: { shadow: { rootCacheSize: 1 } } });
    sameAsNative(one, native);
    assert.deepEqual(one.shadow!.mmus[0].rootStats, { hits: 0, misses: 21 });
    assert.ok(one.monitor!.exitCounts.get(0)! > big.monitor!.exitCounts.get(0)! + 10);
    assert.deepEqual(one.shadow!.audit!(), []);
  });
});
