import * as assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { programModes } from '../../../src/extension/ux/launch/programModes';
import { checkConfig, configForFile, dynamicConfigs, programKind, withDefaults } from '../../../src/extension/ux/launch/debugConfig';

const ROOT = resolve(__dirname, '../../../..');
const EX = join(ROOT, 'examples');
const read = (f: string): string => readFileSync(join(EX, f), 'utf8');

describe('ux: program modes from the `; modes:` header', () => {
  const cases: [string, string, string[]][] = [
    ['no header, no kernel', 'mov rax, 1\nhlt\n', ['native', 'shadow', 'nested']],
    ['no header, teaching kernel: paravirt with PV=1 too', '.equ NPROC, 1\n.include "kernel/kernel.s"\n', ['native', 'shadow', 'nested', 'paravirt']],
    ['header wins', '; modes: paravirt\n.include "kernel/kernel.s"\n', ['paravirt']],
    ['options as modes', '; modes: native shadow nested shadow-unsync\n', ['native', 'shadow', 'nested', 'shadow-unsync']],
    ['unknown names skipped', '; modes: native warp nested-2m\n', ['native', 'nested-2m']],
  ];
  for (const [what, src, want] of cases) it(what, () => assert.deepEqual(programModes(src).map((c) => c.name), want));

  it('shadow-unsync and nested-2m carry their options; kernel paravirt defines PV=1', () => {
    const [u] = programModes('; modes: shadow-unsync\n');
    assert.equal(u.mode, 'shadow');
    assert.equal(u.shadowSync, 'unsync');
    const pv = programModes('.include "kernel/kernel.s"').find((c) => c.mode === 'paravirt');
    assert.deepEqual(pv?.defines, { PV: 1 });
  });
});

describe('ux: configurations built for a file', () => {
  it('kinds by extension', () => {
    const t: [string, string | undefined][] = [['a.s', 'program'], ['B.VMASM', 'program'], ['x.vmem.json', 'scenario'], ['two-vms.json', 'scenario'], ['README.md', undefined], ['a.S.bak', undefined]];
    for (const [f, k] of t) assert.equal(programKind(f), k, f);
  });

  it('one dynamic configuration per mode the header allows, named for the dropdown', () => {
    const names = dynamicConfigs(join(EX, 'sloppy-unsync.s'), read('sloppy-unsync.s')).map((c) => c.name);
    assert.deepEqual(names, ['Debug sloppy-unsync.s in native mode', 'Debug sloppy-unsync.s in shadow mode', 'Debug sloppy-unsync.s in nested mode', 'Debug sloppy-unsync.s in shadow mode, unsync']);
    const unsync = dynamicConfigs(join(EX, 'sloppy-unsync.s'), read('sloppy-unsync.s'))[3];
    assert.equal(unsync.mode, 'shadow');
    assert.equal(unsync.shadowSync, 'unsync');
  });

  it('a scenario gets one configuration and no mode (its VMs set their own)', () => {
    const c = dynamicConfigs(join(EX, 'two-vms.json'), read('two-vms.json'));
    assert.equal(c.length, 1);
    assert.equal(c[0].mode, undefined);
  });

  it('every dynamic configuration of every example passes the adapter\'s validation', () => {
    for (const f of ['hello.s', 'pv-hello.s', 'sloppy-unsync.s', 'demand-paging.s', 'two-vms.json']) {
      for (const cfg of dynamicConfigs(join(EX, f), read(f))) {
        const r = checkConfig(cfg, ROOT, existsSync);
        assert.ok(r.ok, `${f} ${cfg.name}: ${r.message}`);
      }
    }
  });
});

describe('ux: defaults (resolveDebugConfiguration)', () => {
  const hello = join(EX, 'hello.s');
  const pv = join(EX, 'pv-hello.s');
  it('F5 with no launch.json: the active file, stopped on entry, in the default mode', () => {
    const r = withDefaults({}, { activeFile: hello, activeSource: read('hello.s'), defaultMode: 'shadow', logEvents: [] });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.config.program, hello);
    assert.equal(r.config.mode, 'shadow');
    assert.equal(r.config.stopOnEntry, true);
    assert.equal(r.config.type, 'vmem');
  });
  it('a default mode the header excludes falls back to the first allowed one', () => {
    const r = withDefaults({}, { activeFile: pv, activeSource: read('pv-hello.s'), defaultMode: 'native', logEvents: [] });
    assert.ok(r.ok && r.config.mode === 'paravirt');
  });
  it('no guest file open and an empty configuration: a message, no session', () => {
    const r = withDefaults({}, { activeFile: '/x/README.md', defaultMode: 'native', logEvents: [] });
    assert.ok(!r.ok && /open a guest program/.test(r.message));
  });
  it('a launch.json configuration keeps its mode; missing program becomes the active file; logEvents from the setting', () => {
    const r = withDefaults({ type: 'vmem', request: 'launch', name: 'x', mode: 'nested' }, { activeFile: hello, defaultMode: 'shadow', logEvents: ['invlpg'] });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.config.mode, 'nested');
    assert.equal(r.config.program, hello);
    assert.deepEqual(r.config.logEvents, ['invlpg']);
  });
  it('an explicit logEvents is not overridden by the setting', () => {
    const r = withDefaults({ type: 'vmem', request: 'launch', name: 'x', program: hello, logEvents: false }, { activeFile: undefined, defaultMode: 'native', logEvents: ['invlpg'] });
    assert.ok(r.ok && r.config.logEvents === false);
  });
});

describe('ux: checks before launch (resolveDebugConfigurationWithSubstitutedVariables)', () => {
  const base = { type: 'vmem', request: 'launch', name: 'n' };
  const cases: [string, Record<string, unknown>, RegExp | null][] = [
    ['good program', { program: join(EX, 'hello.s') }, null],
    ['relative to the folder', { program: 'examples/hello.s' }, null],
    ['no program', {}, /'program': expected the path/],
    ['not a guest file', { program: join(ROOT, 'README.md') }, /README\.md is not a guest program/],
    ['missing file', { program: join(EX, 'nope.s') }, /no such file: .*nope\.s/],
    ['bad mode', { program: join(EX, 'hello.s'), mode: 'turbo' }, /'mode': expected one of "native", "shadow", "nested", "paravirt", got "turbo"/],
    ['unknown key', { program: join(EX, 'hello.s'), tlbsize: 4 }, /unknown launch configuration key 'tlbsize'/],
    ['program key on a scenario', { program: join(EX, 'two-vms.json'), mode: 'shadow' }, /'mode' does not apply to a scenario/],
    ['bad TLB geometry', { program: join(EX, 'hello.s'), tlbEntries: 48, tlbWays: 4 }, /power-of-two number of sets/],
  ];
  for (const [what, extra, err] of cases) {
    it(what, () => {
      const r = checkConfig({ ...base, ...extra }, ROOT, existsSync);
      if (err === null) {
        assert.ok(r.ok, r.message);
        assert.ok(typeof r.config?.program === 'string' && (r.config.program as string).startsWith('/'));
      } else {
        assert.equal(r.ok, false);
        assert.match(r.message ?? '', err);
      }
    });
  }
  it('a relative program with no folder says how to fix it', () => {
    const r = checkConfig({ ...base, program: 'hello.s' }, undefined, existsSync);
    assert.match(r.message ?? '', /relative and there is no workspace folder/);
  });
  it('configForFile for a program without a choice has no mode (the adapter defaults)', () => {
    assert.equal(configForFile('/a/b.s').mode, undefined);
  });
});
