// TLB rows, the Events store and rows, the status bar text, from the adapter's payloads.
import * as assert from 'node:assert/strict';
import type { EventsWire, LoggedEventWire, TlbEntryWire, TlbWire } from '../../../src/debugAdapter/viewsProtocol';
import { EventStore, eventRow, eventRows, groupRow as eventGroupRow } from '../../../src/extension/views/events/eventsModel';
import { escapeIcons, statusText } from '../../../src/extension/views/statusBar/statusText';
import { countersText, entryKey, entryRow, groupRow, tlbGroups, tlbRows } from '../../../src/extension/views/tlb/tlbModel';
import { fixture } from './fixtures';

describe('tlb rows', () => {
  it('shadow fixture: one group for this vCPU, vpn → frame rows with size and flags', () => {
    const t = fixture('shadow').tlb;
    const groups = tlbGroups(t);
    assert.deepEqual(groups.map((g) => [groupRow(g).label, groupRow(g).description]), [['VPID 1 · PCID 0', 'this vCPU · 2 entries']]);
    const rows = tlbRows(groups[0], undefined).map(entryRow);
    assert.deepEqual(rows.map((r) => [r.label, r.description]), [
      ['0x10 → 0x1', '0x10000 → 0x1000 · 4 KiB · --X--'],
      ['0x8f → 0x7', '0x8f000 → 0x7000 · 4 KiB · --X--'],
    ]);
    assert.equal(countersText(t), 'hits 0 · misses 4 · flushes 4 · 2/96 entries');
  });

  it('nested fixture: no PCID, W U X D', () => {
    const t = fixture('nested').tlb;
    const g = tlbGroups(t);
    assert.equal(groupRow(g[0]).label, 'VPID 1 · PCID —');
    assert.equal(entryRow(tlbRows(g[0], undefined)[0]).description, '0x10000 → 0x2000 · 4 KiB · WUX-D');
  });

  const base = fixture('shadow').tlb;
  const other: TlbEntryWire = { ...base.entries[0], slot: 5, vpid: 2, vpn: 0x400, linearBase: 0x400000, mine: false };
  const pcid3: TlbEntryWire = { ...base.entries[0], slot: 9, pcid: 3, vpn: 0x20, linearBase: 0x20000 };
  it("groups by tag: this vCPU first, this VM's other PCIDs, then other VMs'", () => {
    const t: TlbWire = { ...base, entries: [other, pcid3, ...base.entries] };
    const groups = tlbGroups(t);
    assert.deepEqual(groups.map((g) => [groupRow(g).label, groupRow(g).description?.split(' · ')[0], groupRow(g).collapsible]), [
      ['VPID 1 · PCID 0', 'this vCPU', 'expanded'],
      ['VPID 1 · PCID 3', 'this VM, other PCID', 'expanded'],
      ['VPID 2 · PCID 0', 'another VM', 'collapsed'],
    ]);
  });

  it('marks entries new or refilled since the previous stop', () => {
    const [a, b] = base.entries;
    const previous = new Set([entryKey(a), entryKey({ ...b, write: true })]);
    const rows = tlbRows(tlbGroups(base)[0], previous);
    assert.deepEqual(rows.map((r) => r.changed), [false, true]);
    assert.match(entryRow(rows[1]).description ?? '', / • changed$/);
    assert.equal(entryRow(rows[0]).icon?.color, undefined);
  });
});

describe('events', () => {
  const shadow = fixture('shadow').events;
  const ev = (seq: number, kind: 'invlpg' | 'halt' = 'invlpg'): LoggedEventWire => ({ seq, vm: 1, event: kind === 'invlpg' ? { kind, gva: '0x' + (seq * 4096).toString(16), icount: seq * 10, vcpu: 0, rip: '0x10000' } : { kind, icount: seq * 10, vcpu: 0, rip: '0x10000' } });
  const page = (events: LoggedEventWire[], total: number, capacity = 1000): EventsWire => ({ total, capacity, counts: { invlpg: total }, events });

  it('shadow fixture: groups by kind with the log counts, newest first, rows in the adapter wording', () => {
    const store = new EventStore();
    assert.equal(store.merge(shadow), true);
    const groups = store.groups();
    assert.deepEqual(groups.map((g) => [eventGroupRow(g).label, eventGroupRow(g).description]), [
      ['vm-exit', '7 (latest 2 shown)'], ['cr-write', '2 (latest 1 shown)'], ['page-fault', '2'], ['tlb-flush', '2 (latest 0 shown)'], ['cr3-write', '1 (latest 0 shown)'], ['msr-write', '1 (latest 0 shown)'],
    ]);
    const faults = eventRows(groups.find((g) => g.kind === 'page-fault')!).map((r) => eventRow(r, () => 'vm1'));
    assert.deepEqual(faults.map((r) => r.label), [
      'Hidden page fault at gva 0x0008fff8 (shadow miss; guest PDE (large page) present; read, error code 0x0)',
      'Hidden page fault at gva 0x00010131 (shadow miss; guest PDE (large page) present; fetch, error code 0x0)',
    ]);
    assert.equal(faults[0].description, 'icount 932 · vm1/vcpu0');
    assert.deepEqual(faults[0].command?.args, ['0x8fff8']);
    const cr = eventRows(groups.find((g) => g.kind === 'cr-write')!).map((r) => eventRow(r, () => 'vm1'));
    assert.equal(cr[0].label, 'CR0 write: 0x11 → 0x80000011');
    assert.equal(cr[0].command, undefined, 'no gva, no translation');
  });

  it('nested fixture: an EPT violation translates its gva', () => {
    const store = new EventStore();
    store.merge(fixture('nested').events);
    const g = store.groups().find((x) => x.kind === 'ept-violation')!;
    const row = eventRow(eventRows(g)[0], () => 'vm1');
    assert.match(row.label, /^EPT violation at gpa 0x00010000 \(gva 0x00010000\): fetch denied/);
    assert.deepEqual(row.command?.args, ['0x10000']);
  });

  it('asks only for what is new, keeps at most the capacity, and cuts back on a rewind', () => {
    const store = new EventStore();
    assert.equal(store.after, -1);
    store.merge(page([ev(0), ev(1), ev(2)], 3, 4));
    assert.equal(store.after, 2);
    // A repeated answer changes nothing.
    assert.equal(store.merge(page([ev(2)], 3, 4)), false);
    store.merge(page([ev(3), ev(4), ev(5)], 6, 4));
    assert.equal(store.size, 4, 'trimmed to the ring capacity');
    assert.deepEqual(store.groups()[0].events.map((e) => e.seq), [5, 4, 3, 2], 'newest first');
    // Time travel rewound the log to 4 events: seq 4 and 5 were undone.
    assert.equal(store.merge(page([], 4, 4)), true);
    assert.equal(store.after, 3);
    store.merge(page([ev(4, 'halt')], 5, 4));
    assert.deepEqual(store.groups().map((g) => g.kind).sort(), ['halt', 'invlpg']);
  });

  it('escapes guest text in tooltips', () => {
    const store = new EventStore();
    store.merge({ total: 1, capacity: 10, counts: { console: 1 }, events: [{ seq: 0, vm: 1, event: { kind: 'console', text: '**bold** [x](command:evil)', icount: 1, vcpu: 0, rip: '0x1' } }] });
    const row = eventRow(eventRows(store.groups()[0])[0], () => 'vm1');
    assert.ok(!row.tooltip?.includes('[x](command'), row.tooltip);
    assert.ok(row.tooltip?.includes('\\*\\*bold\\*\\*'), row.tooltip);
  });
});

describe('status bar text', () => {
  const stats = fixture('shadow').stats;
  const cases: { name: string; input: Parameters<typeof statusText>[0]; text: string }[] = [
    { name: 'shadow, stopped', input: { vm: 1, vcpu: 0, paging: '4level', statistics: stats, running: false }, text: '$(server-process) vm1/vcpu0 · shadow · 4-level · 7 exits' },
    { name: 'paging not yet known', input: { vm: 1, vcpu: 0, statistics: stats, running: false }, text: '$(server-process) vm1/vcpu0 · shadow · 7 exits' },
    { name: 'running', input: { vm: 1, vcpu: 0, paging: 'none', statistics: stats, running: true }, text: '$(debug-continue) vm1/vcpu0 · shadow · paging off · 7 exits' },
    { name: 'native has no exits', input: { vm: 1, vcpu: 1, paging: 'pae', statistics: { instructions: 5, vms: [{ ...stats.vms[0], mode: 'native', exits: { total: 0, byReason: {} } }] }, running: false }, text: '$(server-process) vm1/vcpu1 · native · PAE' },
    { name: 'thousands', input: { vm: 1, vcpu: 0, paging: '5level', statistics: { instructions: 5, vms: [{ ...stats.vms[0], exits: { total: 1234, byReason: {} } }] }, running: false }, text: '$(server-process) vm1/vcpu0 · shadow · 5-level · 1,234 exits' },
    { name: 'no statistics yet', input: { vm: 2, vcpu: 0, running: false }, text: '$(server-process) vm2/vcpu0' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(statusText(c.input).text, c.text));

  it('the tooltip carries the statistics; a VM name cannot inject an icon', () => {
    const t = statusText({ vm: 1, vcpu: 0, paging: '4level', statistics: stats, running: false });
    assert.match(t.tooltip, /VM exits: 7 \(28 control\\-register access: 3/);
    assert.match(t.tooltip, /page faults: 0 true, 2 hidden/);
    assert.match(t.tooltip, /shadow leaf fills: 2/);
    assert.equal(escapeIcons('$(zap)vm'), '\\$(zap)vm');
  });
});
