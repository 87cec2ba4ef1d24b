// The global share table against a fake hypervisor: hints become shared frames only after the
// hint's page is rehashed and compared; stale hints go; false matches are never shared; counts
// overflow the 16-bit field into the overflow table; chains survive a hash that collides on
// purpose; the 16-byte records decode to what went in.
import { strict as assert } from 'node:assert';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import { FRAME_BYTES, ShareTable } from '../../../../src/engine/memory/overcommit/sharing/shareTable';
import type { PageHashFn } from '../../../../src/engine/memory/overcommit/sharing/shareTable';
import { FakeHost, pageFrom } from './fakeHost';

// The hashes see words (little-endian: byte 0 is the low byte of word 0).
/** A hash with 2 values: every page collides with half the others. */
const tinyHash: PageHashFn = (w, at, out) => {
  out.lo = w[at] & 1;
  out.hi = 0;
  return out;
};

/** Distinct hashes for distinct generated pages, but only 2 bucket indexes: long chains. */
const chainHash: PageHashFn = (w, at, out) => {
  out.lo = (w[at] & 0xffffff01) >>> 0; // bytes 0 (bit 0 only), 1, 2, 3
  out.hi = w[at + 1] & 0xff; // byte 4
  return out;
};

function world(vms: number, pages: number): FakeHost {
  const host = new FakeHost();
  for (let v = 1; v <= vms; v++) host.addVm(v, pages);
  return host;
}

describe('sharing: share table', () => {
  it('a unique page becomes a hint and stays private (not copy-on-write)', () => {
    const host = world(1, 4);
    host.write(1, 0, pageFrom(1));
    const t = new ShareTable(host);
    assert.deepEqual(t.offer(1, 0), { outcome: 'hinted' });
    assert.equal(host.stateOf(1, 0), 'private');
    assert.equal(t.hintFrames, 1);
    assert.equal(t.sharedFrames, 0);
    assert.ok(t.isHinted(1, 0));
    // Offered again unchanged: still the one hint.
    assert.deepEqual(t.offer(1, 0), { outcome: 'hinted' });
    assert.equal(t.hintFrames, 1);
    assert.deepEqual(t.audit(), []);
  });

  it('a page matching a hint: the hint page is rehashed, compared, made the shared frame; both pages map it', () => {
    const host = world(2, 4);
    host.write(1, 2, pageFrom(9));
    host.write(2, 3, pageFrom(9));
    const t = new ShareTable(host);
    t.offer(1, 2);
    const r = t.offer(2, 3);
    assert.equal(r.outcome, 'shared');
    if (r.outcome !== 'shared') return;
    assert.equal(r.created, true);
    assert.equal(r.refs, 2);
    assert.deepEqual(r.pages, [{ vmId: 1, ppn: 2 }, { vmId: 2, ppn: 3 }]);
    assert.equal(host.stateOf(1, 2), 'shared');
    assert.equal(host.stateOf(2, 3), 'shared');
    assert.equal(host.mpnOf(1, 2), r.mpn);
    assert.equal(host.mpnOf(2, 3), r.mpn);
    assert.equal(host.calls.createShared, 1);
    assert.equal(t.hintFrames, 0);
    assert.equal(t.sharedFrames, 1);
    assert.equal(t.pagesSharing, 1);
    assert.deepEqual(host.read(2, 3), pageFrom(9));
    // A third copy finds the shared frame directly.
    host.write(1, 0, pageFrom(9));
    const r3 = t.offer(1, 0);
    assert.ok(r3.outcome === 'shared' && !r3.created && r3.refs === 3 && r3.mpn === r.mpn);
    assert.equal(t.pagesSharing, 2);
    assert.equal(t.counters.pagesMerged, 3);
    assert.deepEqual(t.audit(), []);
  });

  it('a hint whose page changed since is dropped as volatile, and the new page becomes the hint', () => {
    const host = world(1, 4);
    host.write(1, 0, pageFrom(4));
    const t = new ShareTable(host);
    t.offer(1, 0);
    host.poke(1, 0, 100, 0xaa); // the guest writes it: no fault, it was never COW
    host.write(1, 1, pageFrom(4)); // the old contents elsewhere
    assert.deepEqual(t.offer(1, 1), { outcome: 'hinted' });
    assert.equal(t.counters.volatileHints, 1);
    assert.equal(host.stateOf(1, 0), 'private');
    assert.equal(host.stateOf(1, 1), 'private');
    assert.ok(!t.isHinted(1, 0));
    assert.ok(t.isHinted(1, 1));
    assert.deepEqual(t.audit(), []);
  });

  it("a page rescanned with new contents replaces its own hint (volatile)", () => {
    const host = world(1, 2);
    host.write(1, 0, pageFrom(1));
    const t = new ShareTable(host);
    t.offer(1, 0);
    host.write(1, 0, pageFrom(2));
    t.offer(1, 0);
    assert.equal(t.hintFrames, 1);
    assert.equal(t.counters.volatileHints, 1);
    // The old contents no longer find it.
    host.write(1, 1, pageFrom(1));
    assert.deepEqual(t.offer(1, 1), { outcome: 'hinted' });
    assert.equal(t.hintFrames, 2);
  });

  it('a hint whose page left (swapped, ballooned, shared elsewhere) is dropped as departed', () => {
    for (const state of ['swapped', 'ballooned', 'unbacked', 'guest-pt'] as const) {
      const host = world(1, 2);
      host.write(1, 0, pageFrom(6));
      const t = new ShareTable(host);
      t.offer(1, 0);
      host.setState(1, 0, state);
      host.write(1, 1, pageFrom(6));
      assert.deepEqual(t.offer(1, 1), { outcome: 'hinted' }, state);
      assert.equal(t.counters.departedHints, 1, state);
      assert.equal(t.hintFrames, 1, state);
    }
  });

  it('ineligible pages are not hashed or entered', () => {
    const host = world(1, 6);
    const t = new ShareTable(host);
    host.write(1, 1, pageFrom(1));
    host.setState(1, 1, 'swapped');
    host.write(1, 2, pageFrom(1));
    host.setState(1, 2, 'guest-pt');
    for (const ppn of [0, 1, 2, 99]) assert.deepEqual(t.offer(1, ppn), { outcome: 'ineligible' });
    assert.equal(t.hintFrames + t.sharedFrames, 0);
  });

  it('zero pages go straight to the one zero frame, no hint stage', () => {
    const host = world(2, 8);
    const t = new ShareTable(host);
    host.write(1, 5, new Uint8Array(PAGE_SIZE));
    const r = t.offer(1, 5);
    assert.ok(r.outcome === 'shared' && r.zero && r.created && r.refs === 1);
    for (let p = 0; p < 8; p++) host.write(2, p, new Uint8Array(PAGE_SIZE));
    for (let p = 0; p < 8; p++) {
      const x = t.offer(2, p);
      assert.ok(x.outcome === 'shared' && x.zero && !x.created);
    }
    assert.equal(t.zeroPages, 9);
    assert.equal(t.sharedFrames, 1);
    assert.equal(t.hintFrames, 0);
    assert.equal(t.pagesSharing, 8);
    assert.deepEqual(t.audit(), []);
  });

  it('a false match (same hash, other contents) is counted and not shared — against a hint and against a shared frame', () => {
    const host = world(1, 8);
    const t = new ShareTable(host, { hash: tinyHash });
    const a = pageFrom(1);
    a[0] = 2; // tiny hash 0
    const b = pageFrom(2);
    b[0] = 4; // tiny hash 0, other contents
    host.write(1, 0, a);
    host.write(1, 1, b);
    t.offer(1, 0); // hint
    assert.deepEqual(t.offer(1, 1), { outcome: 'false-match' });
    assert.equal(host.stateOf(1, 1), 'private');
    assert.equal(t.counters.falseMatches, 1);
    // Share a (with a copy of it), then offer b against the shared frame.
    host.write(1, 2, a);
    assert.equal(t.offer(1, 2).outcome, 'shared');
    assert.deepEqual(t.offer(1, 1), { outcome: 'false-match' });
    assert.equal(t.counters.falseMatches, 2);
    assert.equal(host.stateOf(1, 1), 'private');
    assert.deepEqual(t.audit(), []);
  });

  it('with a tiny hash, a page that collides with a hint of other contents is never entered', () => {
    const host = world(1, 8);
    const t = new ShareTable(host, { hash: tinyHash });
    for (let p = 0; p < 8; p++) {
      const c = pageFrom(p);
      c[0] = 2 * p; // all hash 0
      host.write(1, p, c);
      t.offer(1, p);
    }
    assert.equal(t.hintFrames, 1);
    assert.equal(t.counters.falseMatches, 7);
    assert.deepEqual(t.audit(), []);
  });

  it('a hash with 2 bucket indexes builds long chains and every pair of equal pages still shares exactly', () => {
    const host = world(2, 64);
    const t = new ShareTable(host, { hash: chainHash, initialSlots: 16 });
    // 32 contents, each in VM 1 and VM 2 at different ppns.
    for (let i = 0; i < 32; i++) {
      host.write(1, i, pageFrom(100 + i));
      host.write(2, 63 - i, pageFrom(100 + i));
    }
    for (let i = 0; i < 32; i++) t.offer(1, i);
    assert.equal(t.hintFrames, 32);
    assert.ok(t.longestChain() >= 8, `longest chain ${t.longestChain()}`);
    // Every offer from VM 2 walks a chain of ~16 frames of other hashes and finds its partner.
    for (let i = 0; i < 32; i++) assert.equal(t.offer(2, 63 - i).outcome, 'shared', `contents ${i}`);
    assert.equal(t.sharedFrames, 32);
    assert.equal(t.counters.falseMatches, 0);
    for (let i = 0; i < 32; i++) {
      assert.equal(host.mpnOf(1, i), host.mpnOf(2, 63 - i), `contents ${i} in one frame`);
      assert.deepEqual(host.read(2, 63 - i), pageFrom(100 + i));
    }
    assert.deepEqual(t.audit(), []);
  });

  it('reference counts past 65535 go to the overflow table and come back', () => {
    const pages = 70000;
    const host = world(1, pages);
    const zero = new Uint8Array(PAGE_SIZE);
    for (let p = 0; p < pages; p++) host.write(1, p, zero);
    const t = new ShareTable(host);
    for (let p = 0; p < pages; p++) t.offer(1, p);
    const mpn = t.zeroFrame;
    assert.equal(t.refsOf(mpn), pages);
    assert.equal(t.zeroPages, pages);
    assert.equal(t.pagesSharing, pages - 1);
    const shared = t.frames().filter((f) => f.kind === 'shared');
    assert.deepEqual(shared.map((f) => f.kind === 'shared' && f.refs), [pages]);
    assert.ok(t.bytes >= FRAME_BYTES);
    assert.deepEqual(t.audit(), []);
    // COW breaks take it back under the 16-bit limit.
    for (let p = 0; p < 6000; p++) host.cowBreak(1, p);
    t.released(mpn, host.sharedRefs(mpn));
    assert.equal(t.refsOf(mpn), pages - 6000);
    assert.deepEqual(t.audit(), []);
  });

  it('released(…, 0) and a frame freed behind its back both drop the record', () => {
    const host = world(1, 8);
    const t = new ShareTable(host);
    for (const p of [0, 1]) host.write(1, p, pageFrom(3));
    for (const p of [2, 3]) host.write(1, p, pageFrom(4));
    t.offer(1, 0);
    const r = t.offer(1, 1);
    t.offer(1, 2);
    const r2 = t.offer(1, 3);
    assert.ok(r.outcome === 'shared' && r2.outcome === 'shared');
    if (r.outcome !== 'shared' || r2.outcome !== 'shared') return;
    host.cowBreak(1, 0);
    host.cowBreak(1, 1);
    t.released(r.mpn, 0);
    assert.equal(t.sharedFrames, 1);
    // Freed with no word to the table (e.g. both pages ballooned): found stale when matched.
    host.setState(1, 2, 'ballooned');
    host.setState(1, 3, 'ballooned');
    host.write(1, 4, pageFrom(4));
    assert.deepEqual(t.offer(1, 4), { outcome: 'hinted' });
    assert.equal(t.sharedFrames, 0);
    assert.equal(t.counters.framesReleased, 2);
    assert.deepEqual(t.audit(), []);
  });

  it('refused shares leave the pages private and the table consistent', () => {
    const host = world(2, 4);
    host.write(1, 0, pageFrom(8));
    host.write(2, 0, pageFrom(8));
    host.refuse.add('1:0');
    const t = new ShareTable(host);
    t.offer(1, 0);
    assert.deepEqual(t.offer(2, 0), { outcome: 'refused' });
    assert.equal(host.stateOf(1, 0), 'private');
    assert.equal(host.stateOf(2, 0), 'private');
    assert.deepEqual(t.audit(), []);
  });

  it('records decode to what went in: 16-bit VM ids, 32-bit PPNs in hints, 40-bit hint hashes', () => {
    const host = new FakeHost();
    host.addVm(0xffff, 4);
    const t = new ShareTable(host);
    host.write(0xffff, 3, pageFrom(11));
    t.offer(0xffff, 3);
    const [f] = t.frames();
    assert.ok(f.kind === 'hint' && f.vmId === 0xffff && f.ppn === 3);
    assert.throws(() => t.offer(0x10000, 0), RangeError);
  });

  it('grows from 16 slots to thousands of frames; every hint is still found', () => {
    const host = world(2, 3000);
    const t = new ShareTable(host, { initialSlots: 16 });
    for (let p = 0; p < 3000; p++) {
      host.write(1, p, pageFrom(p + 1));
      host.write(2, 2999 - p, pageFrom(p + 1));
    }
    for (let p = 0; p < 3000; p++) t.offer(1, p);
    assert.equal(t.hintFrames, 3000);
    assert.deepEqual(t.audit(), []);
    for (let p = 0; p < 3000; p++) assert.equal(t.offer(2, p).outcome, 'shared');
    assert.equal(t.sharedFrames, 3000);
    assert.equal(t.hintFrames, 0);
    assert.ok(t.longestChain() <= 8, `longest chain ${t.longestChain()}`);
    assert.deepEqual(t.audit(), []);
  });

  it('the audit catches a shared frame written behind the table (a writable COW mapping)', () => {
    const host = world(2, 2);
    host.write(1, 0, pageFrom(5));
    host.write(2, 0, pageFrom(5));
    const t = new ShareTable(host);
    t.offer(1, 0);
    const r = t.offer(2, 0);
    assert.equal(r.outcome, 'shared');
    if (r.outcome !== 'shared') return;
    host.frameBytes(r.mpn)[17] ^= 1;
    assert.match(t.audit().join('\n'), /changed since it was shared/);
  });
});
