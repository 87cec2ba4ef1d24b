// Diagnostics as you type: debouncing, the root rule for included files, mapping each
// diagnostic to the file it points into, and clearing on close.
import * as assert from 'node:assert/strict';
import type { Diagnostic } from '../../../src/engine/isa/assembler';
import { assemble } from '../../../src/engine/isa/assembler';
import { DiagnosticsEngine, Timers, groupByFile } from '../../../src/extension/language/diagnosticsEngine';
import { IncludeGraph, chooseRoot } from '../../../src/extension/language/includeGraph';
import { indexOf } from './fixtures';

class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  readonly queue = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(h: unknown): void {
    this.queue.delete(h as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.queue].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.queue.has(id)) {
        this.queue.delete(id);
        t.fn();
      }
    }
  }
}

function setup(files: Record<string, string>) {
  const { ws, index } = indexOf({ ...files });
  const timers = new FakeTimers();
  const shown = new Map<string, Diagnostic[]>();
  const assembled: string[] = [];
  const engine = new DiagnosticsEngine(
    index,
    (root) => {
      assembled.push(root);
      return assemble(root, ws);
    },
    { publish: (f, d) => (d === undefined ? shown.delete(f) : shown.set(f, d)) },
    timers,
    300,
  );
  const messages = (f: string): string[] => (shown.get(f) ?? []).map((d) => `${d.line}:${d.column} ${d.message}`);
  return { ws, index, timers, shown, assembled, engine, messages };
}

const KERNEL = {
  '/ex/hello.s': '.include "kernel/kernel.s"\nmain: call helper\n    ret',
  '/ex/other.s': '.equ EXTRA, 1\n.include "kernel/kernel.s"',
  '/ex/kernel/kernel.s': '.include "layout.s"\n.include "boot.s"',
  '/ex/kernel/layout.s': '.equ STACK, 0x9000',
  '/ex/kernel/boot.s': 'helper: mov rsp, STACK\n    ret',
};

describe('language: diagnostics', () => {
  it('debounces: a burst of edits assembles once, 300 ms after the last', () => {
    const t = setup({ '/a.s': 'nop' });
    t.engine.opened('/a.s');
    for (let i = 0; i < 5; i++) {
      t.timers.advance(100);
      t.ws.files['/a.s'] = `mov rax, ${i}\nbogus`;
      t.engine.changed('/a.s');
    }
    assert.deepEqual(t.assembled, []);
    t.timers.advance(299);
    assert.deepEqual(t.assembled, []);
    t.timers.advance(1);
    assert.deepEqual(t.assembled, ['/a.s']);
    assert.equal(t.messages('/a.s').length, 1);
    assert.match(t.messages('/a.s')[0], /^2:1 .*bogus/);
  });

  it('assembles an included file through its includer: no undefined-symbol noise in a kernel part', () => {
    const t = setup(KERNEL);
    t.engine.opened('/ex/kernel/boot.s');
    t.timers.advance(300);
    assert.deepEqual(t.assembled, ['/ex/hello.s']);
    assert.deepEqual(t.messages('/ex/kernel/boot.s'), []);
    // The same file assembled alone would report STACK undefined.
    assert.match(assemble('/ex/kernel/boot.s', t.ws).diagnostics[0].message, /STACK/);
  });

  it('maps a diagnostic in an included file to that file, and clears it when fixed', () => {
    const t = setup(KERNEL);
    t.engine.opened('/ex/hello.s');
    t.ws.files['/ex/kernel/boot.s'] = 'helper: mov rsp, STACK\n    mov rax, ebx\n    ret';
    t.engine.changed('/ex/kernel/boot.s');
    t.timers.advance(300);
    assert.equal(t.messages('/ex/kernel/boot.s').length, 1);
    assert.match(t.messages('/ex/kernel/boot.s')[0], /^2:/);
    assert.deepEqual(t.messages('/ex/hello.s'), []);
    t.ws.files['/ex/kernel/boot.s'] = KERNEL['/ex/kernel/boot.s'];
    t.engine.changed('/ex/kernel/boot.s');
    t.timers.advance(300);
    assert.deepEqual(t.messages('/ex/kernel/boot.s'), []);
  });

  it('prefers an open includer as the root', () => {
    const t = setup(KERNEL);
    t.engine.opened('/ex/other.s');
    t.engine.opened('/ex/kernel/boot.s');
    t.timers.advance(300);
    assert.equal(t.index.rootOf('/ex/kernel/boot.s'), '/ex/other.s');
    assert.deepEqual(t.assembled, ['/ex/other.s']);
  });

  it('clears diagnostics on close, keeping those an open includer still needs', () => {
    const t = setup({ ...KERNEL, '/ex/kernel/boot.s': 'helper: mov rsp, STACK\n    junk\n    ret' });
    t.engine.opened('/ex/kernel/boot.s');
    t.timers.advance(300);
    assert.equal(t.messages('/ex/kernel/boot.s').length, 1);
    t.engine.closed('/ex/kernel/boot.s');
    assert.equal(t.shown.has('/ex/kernel/boot.s'), false);
    assert.equal(t.shown.size, 0);

    t.engine.opened('/ex/hello.s');
    t.engine.opened('/ex/kernel/boot.s');
    t.timers.advance(300);
    t.engine.closed('/ex/kernel/boot.s');
    assert.equal(t.messages('/ex/kernel/boot.s').length, 1, 'hello.s is open and includes boot.s');
    t.engine.closed('/ex/hello.s');
    assert.equal(t.shown.size, 0);
  });

  it('cancels pending runs of roots nobody needs', () => {
    const t = setup({ '/a.s': 'nop' });
    t.engine.opened('/a.s');
    t.engine.closed('/a.s');
    t.timers.advance(1000);
    assert.deepEqual(t.assembled, []);
  });

  it('a macro error reports at the invocation, in the invoking file', () => {
    const t = setup({ '/m.s': '.include "mac.s"\n    TWICE rax', '/mac.s': '.macro TWICE r\n    add \\r, qword\n.endm' });
    t.engine.opened('/m.s');
    t.timers.advance(300);
    assert.equal(t.messages('/m.s').length, 1);
    assert.match(t.messages('/m.s')[0], /^2:.*in macro 'TWICE'/);
  });

  it('groups by file with an entry for every unit file', () => {
    const r = assemble('/m.s', indexOf({ '/m.s': 'bad1\n.include "i.s"', '/i.s': 'bad2' }).ws);
    const g = groupByFile(r, ['/m.s', '/i.s', '/quiet.s']);
    assert.deepEqual([...g].map(([f, d]) => [f, d.map((x) => x.line)]), [['/m.s', [1]], ['/i.s', [1]], ['/quiet.s', []]]);
  });
});

describe('language: include graph', () => {
  const g = new IncludeGraph();
  g.set('/a.s', ['/k.s']);
  g.set('/b.s', ['/k.s']);
  g.set('/k.s', ['/l.s']);
  g.set('/c1.s', ['/c2.s']);
  g.set('/c2.s', ['/c1.s']);
  const CASES: [file: string, open: string[], roots: string[], chosen: string][] = [
    ['/l.s', [], ['/a.s', '/b.s'], '/a.s'],
    ['/l.s', ['/b.s'], ['/a.s', '/b.s'], '/b.s'],
    ['/a.s', [], ['/a.s'], '/a.s'],
    ['/lonely.s', [], ['/lonely.s'], '/lonely.s'],
    ['/c1.s', [], ['/c1.s'], '/c1.s'],
  ];
  for (const [file, open, roots, chosen] of CASES) {
    it(`${file} (open: ${open.join(',') || '-'}) → ${chosen}`, () => {
      assert.deepEqual(g.roots(file), roots);
      assert.equal(chooseRoot(file, g, new Set(open)), chosen);
    });
  }
  it('lists a unit in first-include order, once', () => {
    assert.deepEqual(g.unit('/a.s'), ['/a.s', '/k.s', '/l.s']);
    assert.deepEqual(g.unit('/c1.s'), ['/c1.s', '/c2.s']);
  });
});
