// The webviews' pure view models over the adapter's real payloads (test/webview/fixtures), in node.
import * as assert from 'node:assert/strict';
import { changedKeys, eptGrid, translationModel } from '../../src/webview/translation/model';
import type { EptGrid } from '../../src/webview/translation/model';
import { FrameIndex, changedFrames, columnsFor, describeFrame, legend, rowRange } from '../../src/webview/memory/model';
import { bin, bucketWidth, describeEvent, eventGva, seriesOf, ticks } from '../../src/webview/timeline/model';
import { parseGva, isMemoryReference } from '../../src/webview/shared/messages';
import { eptFlags, hex, size, rights } from '../../src/webview/shared/format';
import { fixture } from './harness';
import type { EventsWire, FrameMapWire, TlbWire, TranslationWire } from '../../src/debugAdapter/viewsProtocol';

interface Answer { walk: TranslationWire; tlb: TlbWire }
const shadowStops = fixture<{ first: Answer; second: Answer }>('shadow-stops.json');
const nested = fixture<{ walk: TranslationWire; kernel: TranslationWire; tlb: TlbWire; unmapped: TranslationWire }>('nested-2d.json');
const adapterNested = fixture<{ walk: TranslationWire }>('adapter-nested.json');
const paravirt = fixture<Answer>('paravirt.json');
const native = fixture<{ walk: TranslationWire; frameMap: FrameMapWire }>('native.json');
const shadowMap = fixture<FrameMapWire>('shadow-framemap.json');
const events = fixture<{ events: EventsWire }>('shadow-events.json').events;

describe('webview models: Address Translation', () => {
  it('builds the 2-D grid of a 4-level guest on 4-level EPT: 5 rows × 4 EPT cells + 4 guest reads = 24', () => {
    const g = eptGrid(nested.walk) as EptGrid;
    assert.equal(g.kind, 'grid');
    assert.deepEqual(g.columns.map((c) => c.name), ['EPT PML4E', 'EPT PDPTE', 'EPT PDE', 'EPT PTE']);
    assert.deepEqual(g.rows.map((r) => [r.label, r.cells.filter(Boolean).length, r.guestRead ? 1 : 0, r.references]), [
      ['guest PML4E', 4, 1, 5], ['guest PDPTE', 4, 1, 5], ['guest PDE', 4, 1, 5], ['guest PTE', 4, 1, 5], ['data page', 4, 0, 4],
    ]);
    const orders = g.rows.flatMap((r) => [...r.cells.map((c) => c?.order), r.guestRead?.order]).filter((o): o is number => o !== undefined);
    assert.deepEqual(orders, Array.from({ length: 24 }, (_, i) => i + 1), 'row by row: the EPT walk, then the guest entry it found');
    assert.equal(g.references, 24);
    assert.equal(g.formula, '(4+1)(4+1)−1 = 24');
  });

  it('counts a 2 MiB guest page as 3 guest levels: 19 references', () => {
    const g = eptGrid(nested.kernel) as EptGrid;
    assert.equal(g.references, 19);
    assert.equal(g.rows.length, 4);
    assert.equal(g.formula, '(3+1)(4+1)−1 = 19');
  });

  it('shows an EPT walk cut short by a violation (guest paging off)', () => {
    const g = eptGrid(adapterNested.walk) as EptGrid;
    assert.equal(g.rows.length, 1);
    assert.deepEqual(g.rows[0].cells.map((c) => c?.name ?? null), ['EPT PML4E', 'EPT PDPTE', 'EPT PDE', null]);
    assert.equal(g.rows[0].outcome, 'EPT violation: EPT PDE not present');
    assert.equal(g.ok, false);
  });

  const table: [string, TranslationWire, { ept: string; shadow: string; guestRows: number; tlbHit: boolean }][] = [
    ['shadow', shadowStops.second.walk, { ept: 'shadow mode: no EPT', shadow: 'shadow', guestRows: 4, tlbHit: true }],
    ['nested', nested.walk, { ept: 'grid', shadow: 'nested mode: no shadow page tables — the MMU walks guest PT and EPT', guestRows: 4, tlbHit: false }],
    ['paravirt', paravirt.walk, { ept: 'paravirtual mode: no EPT', shadow: 'paravirtual mode: no shadow page tables — the guest\'s tables hold machine frames', guestRows: 4, tlbHit: true }],
    ['native', native.walk, { ept: 'native mode: no EPT', shadow: 'native mode: no shadow page tables — the MMU walks the guest\'s own tables', guestRows: 4, tlbHit: native.walk.tlb !== null }],
  ];
  for (const [mode, walk, want] of table) {
    it(`lays out the columns of a ${mode}-mode walk`, () => {
      const m = translationModel(walk, null);
      assert.equal(m.ept.kind === 'na' ? m.ept.reason : m.ept.kind, want.ept);
      assert.equal(m.shadow.kind === 'na' ? m.shadow.reason : m.shadow.kind, want.shadow);
      assert.equal(m.guest.rows.length, want.guestRows);
      assert.equal(m.tlb.hit, want.tlbHit);
    });
  }

  it('puts paravirtual guest tables in machine memory', () => {
    const m = translationModel(paravirt.walk, null);
    assert.ok(m.guest.rows.every((r) => r.space === 'mpa' && r.tableRef.startsWith('mpa:')));
    const s = translationModel(shadowStops.second.walk, null);
    assert.deepEqual(s.guest.rows.map((r) => r.tableRef), ['gpa:1:0x100000', 'gpa:1:0x101000', 'gpa:1:0x102000', 'gpa:1:0x103000']);
  });

  it('finds what changed between two stops: A bits, the shadow fill, the TLB fill', () => {
    const a = translationModel(shadowStops.first.walk, null);
    const b = translationModel(shadowStops.second.walk, null);
    const changed = [...changedKeys(a, b)].sort();
    assert.deepEqual(changed, [
      'guest:1', 'guest:1:flag:a', 'guest:2', 'guest:2:flag:a',
      'shadow:1', 'shadow:2', 'shadow:2:flag:a', 'shadow:2:flag:p', 'shadow:2:flag:rw', 'shadow:2:flag:us',
      'shadow:agrees', 'tlb:presence',
    ]);
    assert.equal(changedKeys(b, b).size, 0, 'nothing changed against itself');
  });
});

describe('webview models: Machine Memory', () => {
  it('looks frames up in their runs and knows what is not loaded', () => {
    const idx = new FrameIndex(shadowMap.runs, 0, 64);
    assert.equal(idx.runAt(0)?.use, 'vmm');
    assert.equal(idx.runAt(8)?.use, 'guest-pt');
    assert.equal(idx.runAt(40)?.use, 'free');
    assert.equal(idx.runAt(64), undefined);
    assert.deepEqual(describeFrame(64, undefined, false), ['mpn 0x40 · mpa 0x40000', 'loading…']);
  });

  it('sums the census into the legend (free once, uses in palette order)', () => {
    const l = legend(shadowMap);
    assert.deepEqual(l.owners.map((o) => [o.owner, o.total]), [['hypervisor', 1], ['vm1', 20]]);
    assert.deepEqual(l.uses.map((u) => u.use), ['guest-data', 'guest-pt', 'shadow-pt', 'vmm', 'free']);
    assert.equal(l.free + l.owners.reduce((n, o) => n + o.total, 0), l.total);
  });

  const cols: [number, number][] = [[1000, 64], [1500, 128], [200, 8], [10, 1]];
  for (const [w, c] of cols) it(`fits ${c} columns (a power of two) in ${w} px`, () => assert.equal(columnsFor(w, 11, 78), c));

  it('clips row ranges to memory and finds changed frames only where both stops are loaded', () => {
    assert.deepEqual(rowRange(-3, 2, 64, 100), { from: 0, to: 100 });
    const before = new FrameIndex(shadowMap.runs, 0, 32);
    const runs = shadowMap.runs.map((r) => (r.mpn === 12 ? { ...r, use: 'shadow-pt' as const } : r));
    const after = new FrameIndex(runs, 0, 14);
    assert.deepEqual([...changedFrames(before, after, 0, 64)], [12, 13]);
  });
});

describe('webview models: Event Timeline', () => {
  const widths: [number, number, number][] = [[1000, 100, 10], [1001, 100, 20], [7, 100, 1], [123456, 50, 5000]];
  for (const [span, n, w] of widths) it(`buckets ${span} instructions into ≤${n} round buckets of ${w}`, () => assert.equal(bucketWidth(span, n), w));

  it('bins every event exactly once and splits true from hidden faults', () => {
    const b = bin(events.events, 100);
    assert.equal(b.buckets.reduce((n, x) => n + x.total, 0), events.events.length);
    assert.ok(b.series.includes('hidden fault'));
    assert.ok(!b.series.includes('page-fault'));
    const hiddenOff = bin(events.events, 100, 0, new Set(['vm-exit']));
    assert.equal(hiddenOff.buckets.reduce((n, x) => n + x.total, 0), events.events.length - (events.counts['vm-exit'] ?? 0));
    assert.equal(bin(events.events, 100, 1_000_000).end >= 1_000_000, true, 'the axis reaches the latest stop');
  });

  it('names series, finds gvas and describes events in words', () => {
    const pf = events.events.find((e) => e.event.kind === 'page-fault');
    assert.ok(pf);
    assert.equal(seriesOf(pf.event), 'hidden fault');
    assert.match(String(eventGva(pf.event)), /^0x[0-9a-f]+$/);
    assert.match(describeEvent(pf.event), /^hidden #PF at 0x/);
    const exit = events.events.find((e) => e.event.kind === 'vm-exit');
    assert.ok(exit);
    assert.match(describeEvent(exit.event), /^VM exit \d+ /);
    assert.deepEqual(ticks(10, 4), [0, 5, 10]);
  });
});

describe('webview shared: parsing and formatting', () => {
  const gvas: [string, string | undefined][] = [['0x400000', '0x400000'], ['4194304', '0x400000'], [' 0xFFFF_8000_0000_0000 ', '0xffff800000000000'], ['0x1ffffffffffffffff', undefined], ['rax', undefined], ['', undefined]];
  for (const [input, want] of gvas) it(`parses ${JSON.stringify(input)} as ${want}`, () => assert.equal(parseGva(input), want));

  const refs: [string, boolean][] = [['mpa:0x1000', true], ['gpa:1:0x1000', true], ['gva:1/0:0x400000', true], ['mpa:0x1000;rm -rf', false], ['file:///etc/passwd', false]];
  for (const [r, ok] of refs) it(`${ok ? 'accepts' : 'refuses'} memory reference ${r}`, () => assert.equal(isMemoryReference(r), ok));

  it('formats', () => {
    assert.equal(hex('0x00400000'), '0x400000');
    assert.equal(size(2 * 1024 * 1024), '2 MiB');
    assert.equal(rights({ write: false, user: true, execute: true }), 'R - X U');
    assert.deepEqual(eptFlags('0x387'), ['R', 'W', 'X', 'LARGE', 'A', 'D']);
  });
});
