// The `vmem` command as a user runs it: exit codes, the JSON summary, traces, listings and
// diagnostics. Runs the bundled dist/cli.js (npm test builds it first).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOUCH_GUEST } from '../support/touchGuest';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/cli.js');

function vmem(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vmem CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmem-cli-'));

  it('run: exit 0, console and statistics for an example', () => {
    const r = vmem('run', 'examples/hello.s');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /hello from A/);
    assert.match(r.out, /page faults +1 \(not present 1/);
    assert.match(r.out, /TLB +hits [\d,]+, misses [\d,]+/);
  });

  it('--define picks the kernel variant; a bad define says what was expected', () => {
    const r = vmem('run', 'examples/hello.s', '--define', 'PAGING=32');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /booted, 32-bit two-level paging/);
    assert.match(vmem('run', 'examples/hello.s').out, /booted, 4-level paging/);
    const bad = vmem('run', 'examples/hello.s', '-D', 'PAGING=48');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /PAGING must be 32 or 64/);
    assert.match(vmem('run', 'examples/hello.s', '--define', 'PAGING').err, /NAME=NUMBER/);
  });

  it('--balloon-target sets the host targets; the summary says what the balloon did', () => {
    const r = vmem('run', 'examples/balloon.s', '--mode', 'shadow', '--balloon-target', '0:300,1.5:100');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /balloon: 1 s: target 300, inflated 256, size 256/);
    assert.match(r.out, /^balloon +100 of target 100 pages; inflated 256, deflated 156, pops 0, refused 0$/m);
    const none = vmem('run', 'examples/balloon.s');
    assert.doesNotMatch(none.out, /^balloon +/m, 'no target, no balloon line');
    const bad = vmem('run', 'examples/balloon.s', '--balloon-target', '0:x');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--balloon-target: a balloon target step is SECONDS:PAGES \(e\.g\. 1\.5:100\), not '0:x'/);
  });

  it('--machine-memory puts one program on a machine of that size, overcommitted under the memory scheduler', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmem-cli-'));
    const trace = join(dir, 'trace.jsonl');
    // 400 pages touched twice on a 256-page machine.
    const program = join(dir, 'touch400.s');
    writeFileSync(program, TOUCH_GUEST.replace('mov ecx, 150', 'mov ecx, 400'));
    const r = vmem('run', program, '--mode', 'shadow', '--memory', '4', '--machine-memory', '1', '--trace', trace);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^machine +[\d,]+ instructions, [\d.]+ simulated s; frames 256 /m);
    const swapped = /^hypervisor swap ([\d,]+) pages out/m.exec(r.out);
    assert.ok(swapped && Number(swapped[1].replace(/,/g, '')) > 0, r.out);
    const lines = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { vm: string; kind: string });
    assert.ok(lines.every((e) => e.vm === 'vm1'));
    assert.ok(lines.some((e) => e.kind === 'swap-out'));
    const audited = vmem('run', 'examples/demand-paging.s', '--mode', 'nested', '--memory', '16', '--machine-memory', '1', '--audit');
    assert.equal(audited.code, 0, audited.err);
    assert.match(audited.out, /^memsched +policy/m);
    const native = vmem('run', 'examples/hello.s', '--machine-memory', '1');
    assert.equal(native.code, 2);
    assert.match(native.err, /--machine-memory puts the program in a VM .*pick a hypervisor mode/);
    assert.match(vmem('run', 'examples/overcommit/idle-tax.json', '--machine-memory', '1').err, /--machine-memory is for one program; a scenario sets machine\.memoryMiB/);
    assert.match(vmem('run', 'examples/hello.s', '--mode', 'shadow', '--machine-memory', '0').err, /--machine-memory expects a positive whole number, got '0'/);
  });

  it('run --json: the documented summary', () => {
    const r = vmem('run', 'examples/demand-paging.s', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.mode, 'native');
    assert.deepEqual(s.exit, { reason: 'shutdown', message: 'guest exited with status 0', status: 0, ok: true });
    assert.equal(s.faults.pageFaults, 9);
    assert.equal(s.faults.exceptions['#PF'], 9);
    for (const k of ['hits', 'misses', 'flushes', 'entriesFlushed', 'hitRate']) assert.equal(typeof s.tlb[k], 'number', k);
    assert.ok(s.instructions > 1000);
    assert.equal(typeof s.memory.touchedFrames, 'number');
  });

  it('run --trace writes every event as JSON lines, tlb-miss included', () => {
    const trace = join(dir, 't.jsonl');
    const r = vmem('run', 'examples/sloppy-tlb.s', '--trace', trace);
    assert.equal(r.code, 0, r.err);
    const events = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['page-fault', 'tlb-miss', 'invlpg', 'cr3-write', 'tlb-flush', 'console', 'exception']) assert.ok(kinds.has(k), k);
    const pf = events.find((e) => e.kind === 'page-fault');
    assert.match(pf.gva, /^0x[0-9a-f]+$/);
    assert.equal(typeof pf.icount, 'number');
  });

  it('a guest that never ends: exit 1 when --max-steps is reached, with the reason', () => {
    const r = vmem('run', 'examples/two-processes.s', '--max-steps', '500');
    assert.equal(r.code, 1);
    assert.match(r.err, /step bound/);
  });

  it('a triple fault: exit 1 with the exception chain', () => {
    const f = join(dir, 'tf.s');
    writeFileSync(f, '.org 0x1000\n_start: ud2\n');
    const r = vmem('run', f, '--json');
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).exit.reason, 'triple-fault');
    assert.match(r.err, /triple fault/);
  });

  it('bad input: exit 2 and a message saying what was expected', () => {
    assert.match(vmem('run').err, /run takes one guest program/);
    assert.equal(vmem('run').code, 2);
    assert.match(vmem('run', 'nope.s').err, /no such file/);
    assert.match(vmem('run', 'examples/hello.s', '--mode', 'warp').err, /not one of the available modes: native/);
    assert.match(vmem('run', 'examples/hello.s', '--max-steps', 'lots').err, /positive whole number/);
    assert.match(vmem('run', 'examples/hello.s', '--tlb-entries', '48').err, /power of two/);
    assert.equal(vmem('frobnicate').code, 2);
  });

  it('asm: listing with symbols, or file:line:column diagnostics and exit 1', () => {
    const ok = vmem('asm', 'examples/hello.s');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^[0-9a-f]{8}@?[0-9a-f]*  /m);
    assert.match(ok.out, /Entry: 0x/);
    const f = join(dir, 'bad.s');
    writeFileSync(f, 'mov rax, [\nfoo bar\n');
    const bad = vmem('asm', f);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad\.s:1:10: error: .*'\]'/);
    assert.match(bad.err, /bad\.s:2:1: error: unknown instruction 'foo'/);
  });

  it('runs every example to a clean exit', () => {
    const files = readdirSync(join(ROOT, 'examples')).filter((n) => n.endsWith('.s'));
    assert.ok(files.length >= 7);
    for (const f of files) {
      // An example for hypervisor modes only (`; modes: paravirt`) runs once, in its first mode.
      const modes = /^\s*;\s*modes:\s*(.*)$/m.exec(readFileSync(join(ROOT, 'examples', f), 'utf8'))?.[1].trim().split(/\s+/);
      if (modes && !modes.includes('native')) {
        const r = vmem('run', join('examples', f), '--json', '--mode', modes[0]);
        assert.equal(r.code, 0, `${f} --mode ${modes[0]}: ${r.err}`);
        continue;
      }
      for (const paging of ['32', '64']) {
        const r = vmem('run', join('examples', f), '--json', '--define', `PAGING=${paging}`);
        assert.equal(r.code, 0, `${f} PAGING=${paging}: ${r.err}`);
      }
    }
  });
  it('a scenario runs two VMs on one machine, each in its own mode, and reports the frames by owner and use', () => {
    const r = vmem('run', 'examples/two-vms.json', '--json');
    assert.equal(r.code, 0, r.err);
    const m = JSON.parse(r.out);
    assert.deepEqual(m.vms.map((v: { name: string; mode: string; exit: { ok: boolean } }) => [v.name, v.mode, v.exit.ok]), [['shadowed', 'shadow', true], ['nested', 'nested', true]]);
    assert.match(m.vms[0].console, /B: line 5/);
    assert.match(m.vms[1].console, /booted, 32-bit two-level paging/);
    assert.ok(m.frames.byOwner.shadowed['shadow-pt'] > 0);
    assert.ok(m.frames.byOwner.nested.ept > 0);
    assert.ok(m.vms[0].exits.byReason['1 external interrupt'] > 0, 'quantum ends are external-interrupt exits');
    const owned = Object.values(m.frames.byOwner as Record<string, Record<string, number>>).reduce((a, c) => a + Object.values(c).reduce((x, y) => x + y, 0), 0);
    assert.equal(owned + m.frames.free, m.frames.total);
  });

  it('a bad scenario says where and what was expected', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ vms: [{ program: 'x.s', mode: 'warp' }] }));
    const r = vmem('run', f);
    assert.equal(r.code, 2);
    assert.match(r.err, /vms\[0\]\.mode: expected one of/);
  });
  it('--compare runs one program in several modes side by side, with the same console', () => {
    const r = vmem('run', 'examples/demand-paging.s', '--compare', 'native,shadow,nested', '--json');
    assert.equal(r.code, 0, r.err);
    const { runs } = JSON.parse(r.out);
    assert.deepEqual(runs.map((x: { mode: string }) => x.mode), ['native', 'shadow', 'nested']);
    assert.ok(runs.every((x: { console: string }) => x.console === runs[0].console));
    assert.ok(runs.every((x: { faults: { pageFaults: number } }) => x.faults.pageFaults === 9), 'true faults are the same everywhere');
    assert.ok(runs[1].faults.hiddenFaults > 0, 'shadow takes hidden faults');
    assert.ok(runs[2].exits.byReason['48 EPT violation'] > 0, 'nested takes EPT violations');
    assert.ok(runs[1].vmm['shadow roots built'] >= 1);
    const text = vmem('run', 'examples/demand-paging.s', '--compare', 'native,shadow');
    assert.match(text.out, /hidden page faults +0 +\d+/);
    assert.match(text.out, /console identical +yes +yes/);
  });
});
