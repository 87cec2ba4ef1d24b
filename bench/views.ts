// The views' refresh at a stop, end to end over the adapter's stdio (DebugClient, as VS Code
// talks to it): the guest maps 100,000 pages (examples/bench-many-pages.s); at each of `steps`
// `next`s the open views ask what they ask at a stop — vmem/context, then in parallel the table
// roots, the root table and the tables down the path to the focus address (one request each,
// as the tree expands), the TLB, the walk of the focus address, the events since the last seq,
// statistics and the frame map. Reported: p50 / p95 of the whole refresh (stopped event → last
// answer). Target p95 ≤ 50 ms (issue 5).
import { join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ContextWire, EventsWire, TableRootWire, TablePayloadWire } from '../src/debugAdapter/viewsProtocol';

export interface ViewsFigures {
  mode: string;
  steps: number;
  refreshMs: { p50: number; p95: number; max: number; target: number };
  requestsPerRefresh: number;
  tablesPerRefresh: number;
}

/** The repository: dist/ (bundled) and out/bench/ (compiled) sit at different depths. */
const ROOT = [resolve(__dirname, '..'), resolve(__dirname, '../..')].find((d) => existsSync(join(d, 'examples/bench-many-pages.s'))) ?? resolve(__dirname, '..');
const PROGRAM = join(ROOT, 'examples/bench-many-pages.s');

/** Index of gva's entry in a table of `level` (4-level paging and EPT: 9 bits a level). */
function indexAt(gva: bigint, level: number): number {
  return Number((gva >> BigInt(12 + 9 * (level - 1))) & 511n);
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2));
};

async function refresh(dc: DebugClient, lastSeq: { value: number }): Promise<{ requests: number; tables: number }> {
  let requests = 0;
  let tables = 0;
  const ask = async <T>(command: string, args: Record<string, unknown>): Promise<T> => {
    requests++;
    return (await dc.customRequest(command, args)).body as T;
  };
  const ctx = await ask<ContextWire>('vmem/context', { vm: 1, vcpu: 0 });
  const focus = ctx.focusAddress === null ? null : BigInt(ctx.focusAddress);
  // The tree views: roots, then each root's table and the path down to the focus address.
  const treeView = async (): Promise<void> => {
    const roots = await ask<TableRootWire[]>('vmem/tableRoots', {});
    await Promise.all(roots.map(async (r) => {
      let address = r.address;
      // EPT tables are indexed by gpa: the view expands the guest side only down to the focus.
      const expandPath = r.kind !== 'ept' && focus !== null;
      for (let level = r.level; level >= 1; level--) {
        tables++;
        const t = await ask<TablePayloadWire>('vmem/tableEntries', { vm: r.vm, kind: r.kind, address, level, paging: r.paging, vcpu: r.vcpu });
        if (!expandPath) break;
        const e = t.entries.find((x) => x.index === indexAt(focus, level));
        if (!e || e.leaf || e.target === null) break;
        address = e.target;
      }
    }));
  };
  const events = async (): Promise<void> => {
    const ev = await ask<EventsWire>('vmem/events', { after: lastSeq.value, limit: 200 });
    if (ev.events.length > 0) lastSeq.value = ev.events[ev.events.length - 1].seq;
  };
  await Promise.all([
    treeView(),
    ask('vmem/tlb', { vm: 1, vcpu: 0 }),
    focus === null ? Promise.resolve() : ask('vmem/walk', { vm: 1, vcpu: 0, gva: ctx.focusAddress, access: ctx.access }),
    events(),
    ask('vmem/statistics', {}),
    ask('vmem/frameMap', {}),
  ]);
  return { requests, tables };
}

export async function benchViews(mode = 'native', steps = 50, adapter = join(ROOT, 'dist/debugAdapter.js')): Promise<ViewsFigures> {
  const touch = readFileSync(PROGRAM, 'utf8').split('\n').findIndex((l) => l.startsWith('touch:')) + 2;
  const dc = new DebugClient('node', adapter, 'vmem');
  dc.defaultTimeout = 60_000;
  await dc.start();
  try {
    const first = dc.waitForEvent('stopped');
    await Promise.all([
      dc.waitForEvent('initialized').then(async () => {
        await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: touch }] });
        await dc.configurationDoneRequest();
      }),
      dc.initializeRequest().then(() => dc.launchRequest({ program: PROGRAM, mode } as DebugProtocol.LaunchRequestArguments)),
    ]);
    await first;
    await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [] });
    const lastSeq = { value: -1 };
    await refresh(dc, lastSeq);
    const times: number[] = [];
    let shape = { requests: 0, tables: 0 };
    for (let i = 0; i < steps; i++) {
      const stopped = dc.waitForEvent('stopped');
      await dc.nextRequest({ threadId: 1 });
      await stopped;
      const t0 = process.hrtime.bigint();
      shape = await refresh(dc, lastSeq);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { mode, steps, refreshMs: { p50: pct(times, 0.5), p95: pct(times, 0.95), max: pct(times, 1), target: 50 }, requestsPerRefresh: shape.requests, tablesPerRefresh: shape.tables };
  } finally {
    await dc.stop();
  }
}
