import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assemble } from '../../../src/engine/isa/assembler';
import { EVENT_FILTERS } from '../../../src/debugAdapter/runtime/eventFilters';
import { checkAddressInput, parseAddressLiteral } from '../../../src/extension/ux/commands/addressInput';
import { comparisonMarkdown, runComparison } from '../../../src/extension/ux/commands/comparison';
import { programModes } from '../../../src/extension/ux/launch/programModes';
import { WALKTHROUGH_STEPS, stepContextKey } from '../../../src/extension/ux/walkthrough/steps';
import { checkConfig } from '../../../src/extension/ux/launch/debugConfig';

const ROOT = resolve(__dirname, '../../../..');
const EX = join(ROOT, 'examples');
const nodeFiles = { read: (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined), resolve: (from: string, inc: string) => resolve(from, '..', inc) };

describe('ux: Translate Address input', () => {
  const literals: [string, bigint | undefined][] = [['0x401000', 0x401000n], ['4198400', 4198400n], [' 0X40_1000 ', 0x401000n], ['0xffffffffffffffff', (1n << 64n) - 1n], ['0x1_0000_0000_0000_0000', undefined], ['rbx+8', undefined], ['0x', undefined]];
  for (const [t, v] of literals) it(`literal ${JSON.stringify(t)}`, () => assert.equal(parseAddressLiteral(t), v));
  const checks: [string, boolean, RegExp | null][] = [
    ['', true, /Type a guest-virtual address/],
    ['0x401000', false, null],
    ['12ab', true, /not a hex/],
    ['0xfg', true, /not a hex/],
    ['0x1_0000_0000_0000_0000', true, /larger than 64 bits/],
    ['rbx + 8', true, null],
    ['main.loop', true, null],
    ['rbx + 8', false, /needs a stopped vmem debug session/],
  ];
  for (const [t, stopped, want] of checks) {
    it(`check ${JSON.stringify(t)} (${stopped ? 'stopped' : 'no session'})`, () => {
      const m = checkAddressInput(t, stopped);
      if (want === null) assert.equal(m, undefined);
      else assert.match(m ?? '', want);
    });
  }
});

describe('ux: Compare Modes', function () {
  this.timeout(120000);
  const file = join(EX, 'demand-paging.s');
  const programFor = (defines: Record<string, number>) => {
    const r = assemble(file, nodeFiles, { defines: Object.fromEntries(Object.entries(defines).map(([k, v]) => [k, BigInt(v)])) });
    return r.ok ? r : 'assembly failed';
  };

  it('runs every mode the program supports and reports the CLI table plus 2-D walks', async () => {
    const choices = programModes(readFileSync(file, 'utf8'));
    assert.deepEqual(choices.map((c) => c.name), ['native', 'shadow', 'nested', 'paravirt']);
    let progressCalls = 0;
    const r = await runComparison(programFor, choices, { cancelled: () => false, progress: () => progressCalls++, pause: () => Promise.resolve(), slice: 5000 });
    assert.ok(r);
    assert.equal(r.runs.length, 4);
    assert.ok(progressCalls > 4, 'progress reported per slice');
    for (const run of r.runs) assert.ok(run.summary.exit.ok, `${run.choice.name}: ${run.summary.exit.message}`);
    assert.deepEqual(r.runs.map((x) => x.summary.faults.pageFaults), [9, 9, 9, 9], 'the same true faults in every mode');
    assert.ok(r.runs[1].summary.faults.hiddenFaults > 0, 'shadow has hidden faults');
    assert.ok(r.runs[2].twoD && r.runs[2].twoD.walks > 0 && r.runs[0].twoD === null);
    const md = comparisonMarkdown('demand-paging.s', r);
    assert.match(md, /^# Compare modes: demand-paging\.s\n/);
    assert.match(md, /\n\s+native\s+shadow\s+nested\s+paravirt\n/);
    assert.match(md, /true page faults\s+9\s+9\s+9\s+9/);
    assert.match(md, /- \*\*nested\*\*: [\d,]+ walks, [\d,]+ memory references \([\d.]+ per walk/);
    assert.doesNotMatch(md, /did not finish/);
  });

  it('column names tell shadow trace from unsync', async () => {
    const r = await runComparison(programFor, programModes('; modes: shadow shadow-unsync'), { cancelled: () => false, progress: () => undefined, pause: () => Promise.resolve() });
    assert.ok(r);
    assert.match(comparisonMarkdown('x.s', r), /\n\s+shadow\s+shadow-unsync\n/);
  });

  it('cancel stops between slices and reports nothing', async () => {
    let slices = 0;
    const r = await runComparison(programFor, programModes(''), { cancelled: () => slices >= 3, progress: () => slices++, pause: () => Promise.resolve(), slice: 1000 });
    assert.equal(r, undefined);
    assert.equal(slices, 3);
  });

  it('a mode whose program does not assemble is listed, the others still run', async () => {
    const r = await runComparison((d) => (d.PV ? 'kernel.s:1: boom' : programFor(d)), programModes('.include "kernel/kernel.s"').slice(2), { cancelled: () => false, progress: () => undefined, pause: () => Promise.resolve() });
    assert.ok(r);
    assert.equal(r.runs.length, 1);
    assert.match(comparisonMarkdown('x.s', r), /- \*\*paravirt\*\*: not run — kernel\.s:1: boom/);
  });
});

describe('ux: walkthrough', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const walkthrough = pkg.contributes.walkthroughs[0];
  it('package.json steps are the steps the command knows, each completed by its context key', () => {
    assert.deepEqual(walkthrough.steps.map((s: { id: string }) => s.id), WALKTHROUGH_STEPS.map((s) => s.id));
    for (const s of walkthrough.steps) {
      assert.deepEqual(s.completionEvents, [`onContext:${stepContextKey(s.id)}`]);
      assert.ok(existsSync(join(ROOT, s.media.markdown)), s.media.markdown);
      assert.match(s.description, new RegExp(`command:vmem\\.walkthrough\\.debugStep\\?${encodeURIComponent(JSON.stringify([s.id])).replace(/[[\]%]/g, (c) => '\\' + c)}`));
    }
  });
  for (const step of WALKTHROUGH_STEPS) {
    it(`${step.id}: ${step.example} in ${step.mode} launches, with real filters`, () => {
      for (const f of step.filters) assert.ok(EVENT_FILTERS.some((x) => x.id === f), f);
      const r = checkConfig({ type: 'vmem', request: 'launch', name: step.id, program: join(EX, step.example), mode: step.mode, stopOnEntry: true }, ROOT, existsSync);
      assert.ok(r.ok, r.message);
      assert.ok(programModes(readFileSync(join(EX, step.example), 'utf8')).some((c) => c.mode === step.mode), 'the example supports the mode');
    });
  }
  it('settings: every key the extension reads is contributed with a description', () => {
    const props = pkg.contributes.configuration.properties;
    for (const k of ['vmem.debugAdapter.mode', 'vmem.debugAdapter.port', 'vmem.inlineValues.enabled', 'vmem.launch.defaultMode', 'vmem.launch.logEvents', 'vmem.views.showNonPresent']) {
      assert.ok(props[k], k);
      assert.ok((props[k].markdownDescription ?? props[k].description ?? '').length > 20, k);
    }
  });
});
