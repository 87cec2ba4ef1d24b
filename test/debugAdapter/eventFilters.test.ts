// Event breakpoints end to end (stdio): each filter stops on its event with a description and
// exceptionInfo carrying the event's fields; a data breakpoint on a PTE stops when it changes.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { adapterPerTest, launchAndStop, ROOT } from './adapterHarness';
import { EVENT_FILTERS, eventFieldsText } from '../../src/debugAdapter/runtime/eventFilters';
import type { EngineEvent } from '../../src/engine/events';
import { EVENT_KINDS } from '../../src/engine/events';

const HELLO = join(ROOT, 'examples/hello.s');
const MAP_UNMAP = join(ROOT, 'examples/map-unmap.s');

const CASES: [string, string, string, string | undefined, RegExp, string][] = [
  ['hidden fault in shadow mode', HELLO, 'shadow', undefined, /^Hidden page fault at gva 0x[0-9a-f]{8} \(shadow miss; guest P/, 'pf-hidden'],
  ['EPT violation in nested mode', HELLO, 'nested', undefined, /^EPT violation at gpa 0x/, 'ept-violation'],
  ['INVLPG', MAP_UNMAP, 'native', undefined, /^INVLPG of gva 0x/, 'invlpg'],
  ['CR3 write', HELLO, 'native', undefined, /^CR3 write: 0x/, 'cr3-write'],
  ['VM exit with a condition', HELLO, 'shadow', 'reason == 28', /^VM exit 28 /, 'vmexit'],
  ['true page fault', HELLO, 'native', 'gva >= 0x400000', /^True page fault at gva 0x005ffff8/, 'pf-true'],
];

describe('event fields as text (exceptionInfo details, the console log)', () => {
  const stamp = { icount: 1210, vcpu: 0, rip: 0x1039n };
  const table: [EngineEvent, Record<string, string>][] = [
    [{ kind: 'reclaim-state', from: 'high', to: 'low', freePercent: 0.78125, ...stamp }, { freePercent: '0.781', from: 'high', to: 'low', icount: '1210', rip: '0x1039' }],
    [{ kind: 'swap-in', ppn: 0x102, slot: 17, by: 'vmm', latency: 10000, cause: 'guest access', ...stamp }, { ppn: '0x102', slot: '17', latency: '10000' }],
    [{ kind: 'page-shared', ppn: 0x40, mpn: 0x1d, refs: 3, zero: false, ...stamp }, { ppn: '0x40', mpn: '0x1d', refs: '3', zero: 'false' }],
    [{ kind: 'balloon', action: 'inflate', pages: 12, size: 40, target: 64, ...stamp }, { pages: '12', size: '40', target: '64' }],
  ];
  for (const [event, want] of table) {
    it(`${event.kind}: addresses in hex, counts and percentages in decimal, flags as words`, () => {
      const got = eventFieldsText(event);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, k);
    });
  }
});

describe('event breakpoints and data breakpoints (DebugClient over stdio)', function () {
  this.timeout(30_000);
  const h = adapterPerTest();

  it('has one filter per engine event kind (page faults as true and hidden)', () => {
    assert.equal(EVENT_FILTERS.length, EVENT_KINDS.length + 1);
    assert.ok(EVENT_FILTERS.some((f) => f.id === 'vmexit') && EVENT_FILTERS.some((f) => f.id === 'pf-hidden'));
  });

  for (const [what, program, mode, condition, description, filterId] of CASES) {
    it(`stops on ${what}`, async () => {
      const dc = h.dc;
      const ev = await launchAndStop(dc, { program, mode }, () => dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId, condition }] }));
      assert.equal(ev.body.reason, 'exception');
      assert.match(ev.body.description ?? '', description);
      const info = await dc.exceptionInfoRequest({ threadId: ev.body.threadId! });
      assert.equal(info.body.exceptionId, filterId);
      const fields = (info.body.details as { fields: Record<string, string> }).fields;
      assert.ok(fields.rip && fields.icount, 'the event stamp is there');
      if (filterId === 'vmexit') assert.equal(fields.reason, '28');
      const scopes = await dc.scopesRequest({ frameId: ev.body.threadId! * 1000 });
      assert.ok(scopes.body.scopes.some((s) => s.name === 'Event'));
    });
  }

  it('in the console a register means the register, an event field the stop event', async () => {
    const dc = h.dc;
    const ev = await launchAndStop(dc, { program: join(ROOT, 'examples/two-processes.s'), mode: 'shadow' }, () =>
      dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'pf-hidden' }] }),
    );
    const frameId = ev.body.threadId! * 1000;
    const info = await dc.exceptionInfoRequest({ threadId: ev.body.threadId! });
    const fields = (info.body.details as { fields: Record<string, string> }).fields;
    const scopes = await dc.scopesRequest({ frameId });
    const regs = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
    const rip = BigInt(regs.body.variables.find((v) => v.name === 'rip')!.value);
    const value = async (expression: string): Promise<bigint> => BigInt((await dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result.split(/\s/)[0]);
    assert.equal(await value('rip'), rip, 'rip is the register VARIABLES shows');
    assert.equal(await value('gva'), BigInt(fields.gva), 'gva is the fault address of the stop event');
  });

  it('balloonTarget gives the balloon its targets: the balloon filter stops at the inflate', async () => {
    const dc = h.dc;
    const ev = await launchAndStop(dc, { program: join(ROOT, 'examples/balloon.s'), mode: 'shadow', balloonTarget: '0:300,1.5:100' }, () =>
      dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'balloon', condition: 'pages > 1' }] }),
    );
    assert.equal(ev.body.reason, 'exception');
    assert.match(ev.body.description ?? '', /^Balloon inflate: 256 page\(s\); balloon 256 of target 300$/);
  });

  it('a bad balloonTarget is refused with what was expected', async () => {
    const dc = h.dc;
    await dc.initializeRequest({ adapterID: 'vmem', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    await assert.rejects(
      dc.launchRequest({ program: join(ROOT, 'examples/balloon.s'), balloonTarget: '300' } as DebugProtocol.LaunchRequestArguments),
      /'balloonTarget': a balloon target step is SECONDS:PAGES \(e\.g\. 1\.5:100\), not '300'/,
    );
  });

  it('a data breakpoint on a PTE stops when the entry changes', async () => {
    const dc = h.dc;
    await launchAndStop(dc, { program: HELLO }, () => dc.setBreakpointsRequest({ source: { path: HELLO }, breakpoints: [{ line: 31 }] }));
    // The user stack page below 0x600000 is demand-paged: its PTE changes when the first push faults.
    const info = await dc.dataBreakpointInfoRequest({ name: 'pte(0x5ffff8)' });
    assert.ok(info.body.dataId, info.body.description);
    assert.match(info.body.description, /PTE of gva 0x5ffff8/);
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId! }] });
    assert.equal(set.body.breakpoints[0].verified, true);
    const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await dc.continueRequest({ threadId: 1 });
    const ev = await stopped;
    assert.equal(ev.body.reason, 'data breakpoint');
    assert.match(ev.body.description ?? '', /changed: now 0x[0-9a-f]*[1357bdf]$/, 'the new PTE is present');
  });
});
