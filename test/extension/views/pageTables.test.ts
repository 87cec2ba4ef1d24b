// Page Tables rows from the adapter's payloads: VM and kind nodes, entry labels (index, range),
// descriptions (target, flags, changed), hiding non-present entries, tooltips, walk paths.
import * as assert from 'node:assert/strict';
import type { TableEntryWire, TablePayloadWire } from '../../../src/debugAdapter/viewsProtocol';
import { decodeEntry } from '../../../src/extension/views/pageTables/entryBits';
import { entryGva, entryNodes, groupChildren, kindNodes, presentValues, rowOf, vmNodes } from '../../../src/extension/views/pageTables/ptModel';
import type { EntryNode, PtNode, RootNode, TableRef } from '../../../src/extension/views/pageTables/ptModel';
import { visibleSteps, walkPaths } from '../../../src/extension/views/pageTables/walkPath';
import { StopHistory } from '../../../src/extension/views/stopHistory';
import { CHANGED_COLOR } from '../../../src/extension/views/row';
import { fixture } from './fixtures';

const labels = (nodes: PtNode[]): string[] => nodes.map((n) => rowOf(n).label);

function rootOf(f: ReturnType<typeof fixture>, kind: string): RootNode {
  const vm = vmNodes(f.stats.vms)[0];
  const n = kindNodes(vm, f.roots, { vm: 1, vcpu: 0 }).find((k) => k.type === 'root' && k.root.kind === kind);
  assert.ok(n && n.type === 'root', `${kind} root`);
  return n;
}

function entry(index: number, value: string, over: Partial<TableEntryWire> = {}): TableEntryWire {
  const present = (BigInt(value) & 1n) === 1n;
  return {
    index, entryAddress: 0x100000 + index * 8, value, present, leaf: false, flags: present ? '----A--UW' : 'not present',
    target: present ? Number(BigInt(value) & 0xffffff000n) : null, maps: { from: index * 2 ** 39, to: (index + 1) * 2 ** 39 }, childLevel: present ? 3 : undefined, ...over,
  };
}

function pml4(entries: TableEntryWire[]): TablePayloadWire {
  return { vm: 1, kind: 'guest', address: 0x100000, level: 4, levelName: 'PML4', entrySize: 8, entryCount: 512, presentCount: entries.filter((e) => e.present).length, entries };
}

describe('page tables: VM and kind nodes', () => {
  const cases: { name: 'shadow' | 'nested'; vm: string; kinds: string[]; descriptions: (string | undefined)[] }[] = [
    { name: 'shadow', vm: 'vm1', kinds: ['Guest PT', 'Shadow PT'], descriptions: ['cr3 of vcpu0 · 4-level · gpa 0x100000', '1 root'] },
    // Nested at the first EPT violation: paging is still off in the guest, the EPT has a root.
    { name: 'nested', vm: 'vm1', kinds: ['Guest PT', 'EPT'], descriptions: ['paging is off on vcpu0', 'EPTP 0x101e · EPT · mpa 0x1000'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture(c.name);
      const vms = vmNodes(f.stats.vms);
      assert.deepEqual(vms.map((v) => [rowOf(v).label, rowOf(v).description]), [[c.vm, c.name]]);
      const kinds = kindNodes(vms[0], f.roots, { vm: 1, vcpu: 0 });
      assert.deepEqual(labels(kinds), c.kinds);
      assert.deepEqual(kinds.map((k) => rowOf(k).description), c.descriptions);
      assert.ok(kinds.every((k) => k.parent === vms[0]), 'getParent of a kind is its VM');
    });
  }

  it('the shadow group lists its roots, the current one labelled', () => {
    const f = fixture('shadow');
    const group = kindNodes(vmNodes(f.stats.vms)[0], f.roots, { vm: 1, vcpu: 0 })[1];
    assert.equal(group.type, 'group');
    const roots = groupChildren(group as Extract<PtNode, { type: 'group' }>);
    assert.deepEqual(labels(roots), ['shadow root of vcpu0 for guest cr3 0x100000 (current)']);
    assert.equal(rowOf(roots[0]).description, '4-level · mpa 0x10000');
    assert.equal(rowOf(roots[0]).collapsible, 'collapsed');
  });

  it("the guest PT follows the selected vCPU; another VM's shows its first paging vCPU", () => {
    const f = fixture('shadow');
    const roots = [...f.roots, { ...f.roots[0], vcpu: 1, address: 0x200000, label: 'cr3 of vcpu1' }];
    const vm = vmNodes(f.stats.vms)[0];
    const pick = (sel: { vm: number; vcpu: number } | undefined): string | undefined => rowOf(kindNodes(vm, roots, sel)[0]).description;
    assert.match(pick({ vm: 1, vcpu: 1 }) ?? '', /cr3 of vcpu1 .* gpa 0x200000/);
    assert.match(pick({ vm: 1, vcpu: 0 }) ?? '', /cr3 of vcpu0 .* gpa 0x100000/);
    assert.match(pick({ vm: 2, vcpu: 0 }) ?? '', /cr3 of vcpu0/);
    assert.equal(pick({ vm: 1, vcpu: 5 }), 'paging is off on vcpu5');
  });
});

describe('page tables: entry rows', () => {
  it('guest PML4 of the shadow fixture: index, range, target, flags', () => {
    const f = fixture('shadow');
    const root = rootOf(f, 'guest');
    const nodes = entryNodes(root, root.table, f.entries, undefined, false);
    assert.equal(nodes.length, 1);
    const row = rowOf(nodes[0]);
    assert.equal(row.label, '[0] 0x0–0x7fffffffff');
    assert.equal(row.description, '→ 0x101000 · ----A--UW');
    assert.equal(row.collapsible, 'collapsed');
    assert.equal(row.contextValue, 'vmemEntry.linear');
    assert.equal(row.id, 'pt/1/guest/0');
    assert.match(row.tooltip ?? '', /^\*\*PML4\[0\]\*\* = `0x0000000000101027`/);
    assert.match(row.tooltip ?? '', /\| 0 \| P \| 1 \|/);
    const child = (nodes[0] as EntryNode).child;
    assert.deepEqual(child && [child.address, child.level, child.base, child.kind], [0x101000, 3, 0, 'guest']);
  });

  it('EPT PML4 of the nested fixture: gpa range, R W X, no translation menu', () => {
    const f = fixture('nested');
    const root = rootOf(f, 'ept');
    const row = rowOf(entryNodes(root, root.table, f.entries, undefined, false)[0]);
    assert.equal(row.label, '[0] 0x0–0x7fffffffff');
    assert.equal(row.description, '→ 0x8000 · R W X');
    assert.equal(row.contextValue, 'vmemEntry.ept');
  });

  const table: TableRef = { vm: 1, kind: 'guest', address: 0x100000, level: 4, paging: '4level', space: 'gpa', base: 0 };
  const parent: RootNode = { type: 'root', id: 'pt/1/guest', root: { vm: 1, kind: 'guest', vcpu: 0, address: 0x100000, space: 'gpa', level: 4, paging: '4level', label: 'cr3 of vcpu0' }, standalone: true, table };

  it('the upper half of a 4-level PML4 reads canonical', () => {
    const row = rowOf(entryNodes(parent, table, pml4([entry(256, '0x2003')]), undefined, false)[0]);
    assert.equal(row.label, '[256] 0xffff800000000000–0xffff807fffffffff');
    assert.equal(entryGva(entryNodes(parent, table, pml4([entry(511, '0x2003')]), undefined, false)[0] as EntryNode), '0xffffff8000000000');
  });

  it('a leaf says its page size', () => {
    const pd: TableRef = { ...table, level: 2, base: 0 };
    const e = entry(2, '0x4000e7', { leaf: true, childLevel: undefined, target: 0x400000, flags: '--PDA--UW', maps: { from: 0x400000, to: 0x600000 } });
    const payload: TablePayloadWire = { ...pml4([e]), level: 2, levelName: 'PD' };
    const row = rowOf(entryNodes(parent, pd, payload, undefined, false)[0]);
    assert.equal(row.label, '[2] 0x400000–0x5fffff');
    assert.equal(row.description, '→ 0x400000 (2 MiB page) · --PDA--UW');
    assert.equal(row.collapsible, 'none');
  });

  const payload = pml4([entry(0, '0x101027'), entry(1, '0x0'), entry(2, '0x103027'), entry(3, '0x104027')]);
  const cases: { name: string; previous: Map<number, string> | undefined; showNotPresent: boolean; want: [string, boolean][] }[] = [
    { name: 'first read: nothing marked, non-present hidden', previous: undefined, showNotPresent: false, want: [['[0]', false], ['[2]', false], ['[3]', false]] },
    { name: 'non-present shown', previous: undefined, showNotPresent: true, want: [['[0]', false], ['[1]', false], ['[2]', false], ['[3]', false]] },
    { name: 'a value changed, an entry appeared', previous: new Map([[0, '0x101027'], [2, '0x103007']]), showNotPresent: false, want: [['[0]', false], ['[2]', true], ['[3]', true]] },
    { name: 'an entry disappeared (shown when non-present are)', previous: new Map([[0, '0x101027'], [1, '0x105027'], [2, '0x103027'], [3, '0x104027']]), showNotPresent: true, want: [['[0]', false], ['[1]', true], ['[2]', false], ['[3]', false]] },
  ];
  for (const c of cases) {
    it(`changed marks: ${c.name}`, () => {
      const nodes = entryNodes(parent, table, payload, c.previous, c.showNotPresent);
      const got = nodes.map((n): [string, boolean] => [rowOf(n).label.split(' ')[0], (n as EntryNode).changed]);
      assert.deepEqual(got, c.want);
      for (const n of nodes) {
        const row = rowOf(n);
        const changed = (n as EntryNode).changed;
        assert.equal(row.description?.endsWith(' • changed'), changed, row.label);
        assert.equal(row.icon?.color, changed ? CHANGED_COLOR : undefined, row.label);
      }
    });
  }

  it('a table with nothing present says so instead of being empty', () => {
    const nodes = entryNodes(parent, table, pml4([entry(1, '0x0')]), undefined, false);
    assert.deepEqual(labels(nodes), ['no present entries']);
  });

  it('the history compares with exactly the previous stop', () => {
    const h = new StopHistory<Map<number, string>>();
    h.record('t', 1, presentValues(payload));
    assert.equal(h.previous('t', 2)?.get(0), '0x101027');
    assert.equal(h.previous('t', 3), undefined, 'read at stop 1, not at stop 2: no comparison at stop 3');
    h.record('t', 2, new Map([[0, '0x1']]));
    h.record('t', 2, new Map([[0, '0x2']]));
    assert.equal(h.previous('t', 3)?.get(0), '0x2', 'the last read of a stop wins');
    assert.equal(h.previous('t', 2)?.get(0), '0x101027', 'the stop before is kept while the current one is re-read');
  });
});

describe('page tables: decoded bits', () => {
  const field = (bits: ReturnType<typeof decodeEntry>, name: string): string | undefined => bits.find((b) => b.name === name)?.value;
  it('x86 leaf PTE with XD', () => {
    const bits = decodeEntry('0x8000000000403063', { kind: 'guest', level: 1, leaf: true, present: true, paging: '4level' });
    assert.deepEqual(['P', 'R/W', 'U/S', 'A', 'D', 'G', 'XD', 'address'].map((n) => field(bits, n)), ['1', '1', '0', '1', '1', '0', '1', '0x403000']);
    assert.equal(field(bits, 'PS'), undefined, 'a PTE has no PS bit');
  });
  it('32-bit 4 MiB page with PSE-36 high bits', () => {
    const bits = decodeEntry('0x004020e3', { kind: 'guest', level: 2, leaf: true, present: true, paging: '32bit' });
    assert.equal(field(bits, 'PS'), '1');
    assert.equal(field(bits, 'address'), '0x100400000');
    assert.equal(field(bits, 'XD'), undefined);
  });
  it('EPT leaf: rights and memory type', () => {
    const bits = decodeEntry('0x2037', { kind: 'ept', level: 1, leaf: true, present: true, paging: 'ept' });
    assert.deepEqual(['R', 'W', 'X', 'MT', 'address'].map((n) => field(bits, n)), ['1', '1', '1', '6', '0x2000']);
  });
  it('not present: only P is meaningful', () => {
    assert.deepEqual(decodeEntry('0x0', { kind: 'shadow', level: 2, leaf: false, present: false, paging: '4level' }).map((b) => b.name), ['P']);
  });
});

describe('page tables: walk paths', () => {
  it('shadow fixture: the guest walk to its leaf, the shadow walk up to the missing PDE', () => {
    const paths = walkPaths(fixture('shadow').walk);
    assert.deepEqual(paths.map((p) => p.kind), ['guest', 'shadow']);
    assert.deepEqual(visibleSteps(paths[0], false).map((s) => [s.tableAddress, s.index]), [[0x100000, 0], [0x101000, 0], [0x102000, 2], [0x103000, 0]]);
    assert.deepEqual(visibleSteps(paths[1], false).map((s) => s.index), [0, 0]);
    assert.deepEqual(visibleSteps(paths[1], true).map((s) => s.index), [0, 0, 2]);
  });
  it('nested fixture: only the EPT walk (guest paging off)', () => {
    const paths = walkPaths(fixture('nested').walk);
    assert.deepEqual(paths.map((p) => p.kind), ['ept']);
    assert.deepEqual(visibleSteps(paths[0], false).map((s) => [s.tableAddress, s.index]), [[0x1000, 0], [0x8000, 0]]);
  });
});
