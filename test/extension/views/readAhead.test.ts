// What the Page Tables view reads ahead at a stop (expandedTables.ts: the open tables, from the
// view's expand and collapse events), the `vmem/stopped` event as the session client reads it,
// and the rows without their (hover-resolved) tooltips.
import * as assert from 'node:assert/strict';
import type { TableRootWire } from '../../../src/debugAdapter/viewsProtocol';
import { stopContextOf } from '../../../src/extension/session/stopContext';
import { ExpandedTables, tableOf } from '../../../src/extension/views/pageTables/expandedTables';
import { entryNodes, entryTooltip, groupChildren, kindNodes, rowOf, sameRows, vmNodes } from '../../../src/extension/views/pageTables/ptModel';
import type { EntryNode, PtNode, RootNode, TableRef } from '../../../src/extension/views/pageTables/ptModel';

const root = (address: number, kind: TableRootWire['kind'] = 'guest', vcpu: number | undefined = 0): TableRootWire => ({ vm: 1, kind, vcpu, address, space: kind === 'guest' ? 'gpa' : 'mpa', level: 4, paging: '4level', label: `${kind} ${address}` });

/** A table's entries: `present` indexes pointing to child tables at 0x<index>000 + `base`. */
function entries(parent: RootNode | EntryNode, table: TableRef, indexes: number[], base = 0x10_0000): EntryNode[] {
  const payload = {
    vm: 1, kind: table.kind, address: table.address, level: table.level, levelName: `L${table.level}`, entrySize: 8, entryCount: 512, presentCount: indexes.length,
    entries: indexes.map((i) => ({
      index: i, entryAddress: table.address + i * 8, value: `0x${(base + i * 0x1000 + 0x27).toString(16)}`, present: true, leaf: table.level === 1, flags: '----A--UW',
      target: base + i * 0x1000, maps: { from: table.base + i * 4096 * 512 ** (table.level - 1), to: table.base + (i + 1) * 4096 * 512 ** (table.level - 1) }, childLevel: table.level > 1 ? table.level - 1 : undefined,
    })),
  };
  return entryNodes(parent, table, payload, undefined, false) as EntryNode[];
}

function tree(roots: TableRootWire[]): { vm: PtNode; kinds: PtNode[] } {
  const vm = vmNodes([{ vm: 1, name: 'vm1', mode: 'shadow' }])[0];
  return { vm, kinds: kindNodes(vm, roots, { vm: 1, vcpu: 0 }) };
}

const ids = (x: ExpandedTables): string[] => x.tables().map((t) => t.nodeId);

describe('page tables: the open tables read ahead at a stop', () => {
  const { vm, kinds } = tree([root(0x1000), root(0x9000, 'shadow', 0), root(0xa000, 'shadow', undefined)]);
  const guest = kinds[0] as RootNode;
  const l4 = entries(guest, guest.table, [0, 3]);
  const l3 = entries(l4[0], l4[0].child!, [1, 2], 0x20_0000);
  const shadowGroup = kinds[1];
  const shadowRoots = groupChildren(shadowGroup as Parameters<typeof groupChildren>[0]) as RootNode[];

  it('nothing before anything is expanded; an expanded table and the tables above it', () => {
    const x = new ExpandedTables();
    assert.deepEqual(ids(x), []);
    x.expanded(guest);
    assert.deepEqual(ids(x), ['pt/1/guest']);
    // Expanding a deeper node means every node above it shows (reveal() opens them without events of its own order).
    const y = new ExpandedTables();
    y.expanded(l3[0]);
    assert.deepEqual(ids(y), ['pt/1/guest', 'pt/1/guest/0', 'pt/1/guest/0/1']);
    assert.deepEqual(y.tables().map((t) => t.table.address), [0x1000, 0x10_0000, 0x20_1000]);
  });

  it('a collapsed node hides the open tables under it, which come back when it opens again', () => {
    const x = new ExpandedTables();
    x.expanded(l3[0]);
    x.collapsed(l4[0]);
    assert.deepEqual(ids(x), ['pt/1/guest']);
    x.expanded(l4[0]);
    assert.deepEqual(ids(x), ['pt/1/guest', 'pt/1/guest/0', 'pt/1/guest/0/1']);
    // The VM and the kind groups start expanded: collapsing one hides everything below.
    x.collapsed(vm);
    assert.deepEqual(ids(x), []);
    x.expanded(vm);
    assert.equal(ids(x).length, 3);
    x.expanded(shadowRoots[1]);
    x.collapsed(shadowGroup);
    assert.deepEqual(ids(x), ['pt/1/guest', 'pt/1/guest/0', 'pt/1/guest/0/1']);
    x.expanded(shadowGroup);
    assert.deepEqual(ids(x), ['pt/1/guest', 'pt/1/guest/0', 'pt/1/shadow/40960', 'pt/1/guest/0/1']);
    x.clear();
    assert.deepEqual(ids(x), []);
  });

  it('an open node rebuilt at a later stop expands to the table it shows then', () => {
    const x = new ExpandedTables();
    x.expanded(l4[0]);
    // Next stop: entry 0 of the root now points to another table.
    const moved = entries(guest, guest.table, [0], 0x70_0000)[0];
    x.rebuilt(moved);
    assert.deepEqual(x.tables().map((t) => [t.nodeId, t.table.address]), [['pt/1/guest', 0x1000], ['pt/1/guest/0', 0x70_0000]]);
    // A node that is not open is not added by being rebuilt.
    x.rebuilt(l4[1]);
    assert.equal(x.tables().length, 2);
  });

  it('only root and entry nodes expand to tables', () => {
    assert.equal(tableOf(vm), undefined);
    assert.equal(tableOf(shadowGroup), undefined);
    assert.deepEqual(tableOf(guest), guest.table);
    assert.deepEqual(tableOf(l4[1]), l4[1].child);
    const leaf = entries(l3[0], l3[0].child!, [5])[0];
    assert.equal(tableOf(entries(leaf, { ...leaf.child!, level: 1 }, [7])[0]), undefined);
  });

  it('rows leave the entry tooltip to hover: the same Markdown, resolved apart', () => {
    const e = l4[0];
    const full = rowOf(e);
    const bare = rowOf(e, false);
    assert.equal(bare.tooltip, undefined);
    assert.deepEqual({ ...bare, tooltip: full.tooltip }, full);
    assert.equal(entryTooltip(e), full.tooltip);
    assert.match(entryTooltip(e), /^\*\*L4\[0\]\*\* = `0x100027`/);
    // Other rows keep theirs.
    assert.equal(rowOf(guest, false).tooltip, rowOf(guest).tooltip);
  });
});

describe('page tables: a table is redrawn only when its rows changed', () => {
  const { kinds } = tree([root(0x1000)]);
  const guest = kinds[0] as RootNode;
  const at = (indexes: number[], base?: number): EntryNode[] => entries(guest, guest.table, indexes, base);
  it('the same entries: the same rows', () => assert.ok(sameRows(at([0, 3]), at([0, 3]))));
  it('never answered, or another count: redraw', () => {
    assert.ok(!sameRows(undefined, at([0])));
    assert.ok(!sameRows(at([0]), at([0, 3])));
  });
  it('a changed mark set or cleared: redraw', () => {
    const [a] = at([0]);
    assert.ok(!sameRows([a], [{ ...a, changed: true }]));
    assert.ok(!sameRows([{ ...a, changed: true }], [a]));
  });
  it('a value that differs only in bits the row does not show (its tooltip does): redraw', () => {
    const [a] = at([0]);
    const avl: EntryNode = { ...a, entry: { ...a.entry, value: `0x${(BigInt(a.entry.value) | (1n << 9n)).toString(16)}` } };
    assert.equal(rowOf(avl, false).description, rowOf(a, false).description);
    assert.ok(!sameRows([a], [avl]));
  });
  it('another child table: redraw', () => assert.ok(!sameRows(at([0]), at([0], 0x50_0000))));
});

describe('session: the vmem/stopped event', () => {
  const context = { icount: 42, focusAddress: '0x40000000', access: 'write', source: 'access' };
  it('reads a well-formed event', () => {
    assert.deepEqual(stopContextOf({ threadId: 101, vm: 2, vcpu: 0, context }), { threadId: 101, vm: 2, vcpu: 0, context });
  });
  const bad: [string, unknown][] = [
    ['no body', undefined], ['null', null], ['a string', 'x'], ['no thread', { vm: 1, vcpu: 0, context }], ['vm 0', { threadId: 1, vm: 0, vcpu: 0, context }],
    ['negative vcpu', { threadId: 1, vm: 1, vcpu: -1, context }], ['fractional vm', { threadId: 1, vm: 1.5, vcpu: 0, context }], ['no context', { threadId: 1, vm: 1, vcpu: 0 }],
  ];
  for (const [name, body] of bad) it(`ignores ${name}`, () => assert.equal(stopContextOf(body), undefined));
});
