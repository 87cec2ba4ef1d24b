import { strict as assert } from 'node:assert';
import { FORMATS, MARKER, MODES, REMAPPED, REMAPPED_GPA, UNMAPPED, program, runFixture, runToLabel } from './fixtures';
import { runConsole } from '../../../src/debugAdapter/inspect/commands';
import { scopesFor } from '../../../src/debugAdapter/inspect/variables';
import type { InspectVariable } from '../../../src/debugAdapter/inspect/variables';
import { readRegister, setRegister } from '../../../src/debugAdapter/inspect/registers';
import { disassemble } from '../../../src/debugAdapter/inspect/disassembly';
import { tableEntries, tableRoots } from '../../../src/debugAdapter/inspect/tables';
import { readMemory, writeMemory } from '../../../src/debugAdapter/inspect/memory';
import { gpaRef, gvaRef } from '../../../src/debugAdapter/inspect/memoryRef';
import { probeTranslation } from '../../../src/debugAdapter/inspect/translation';
import { EventLog } from '../../../src/debugAdapter/inspect/eventLog';
import { frameMapPayload, statisticsPayload, tlbPayload, walkPayload } from '../../../src/debugAdapter/inspect/views';
import { nestedOf, shadowOf } from '../../../src/debugAdapter/inspect/modeParts';
import { assembleOk } from '../../support/runAsm';
import { startProgram } from '../../../src/engine/runner';
import { createInspectTarget } from '../../../src/debugAdapter/inspect/target';

function find(vars: InspectVariable[], path: string[]): InspectVariable {
  let cur: InspectVariable | undefined;
  let list = vars;
  for (const p of path) {
    cur = list.find((v) => v.name === p);
    assert.ok(cur, `no variable ${p} among ${list.map((v) => v.name).join(', ')}`);
    list = cur.children ?? [];
  }
  return cur!;
}

describe('inspect: scopes, registers and setRegister', () => {
  for (const mode of MODES) {
    it(`${mode}: registers, decoded control registers and flags`, () => {
      const { target, v } = runFixture(program('4level'), mode);
      const scopes = scopesFor(target, v, 0);
      assert.deepEqual(scopes.map((s) => s.name), mode === 'native' ? ['Registers', 'Control registers', 'Translation'] : ['Registers', 'Control registers', 'Last VM exit', 'Translation', 'Execution controls']);
      const regs = scopes[0].variables;
      assert.equal(find(regs, ['rbx']).value, '0x' + MARKER.toString(16).padStart(16, '0'));
      assert.equal(find(regs, ['rbx']).memoryReference, gvaRef(1, 0, MARKER));
      const cr = scopes[1].variables;
      for (const [name, want] of [['PG', '1'], ['WP', '1'], ['PE', '1']]) assert.match(find(cr, ['cr0', name]).value, new RegExp('^' + want));
      assert.match(find(cr, ['cr4', 'PAE']).value, /^1/);
      assert.match(find(cr, ['efer', 'LME']).value, /^1/);
      assert.match(find(cr, ['cr3', 'base']).value, /^0x10000$/);
      assert.equal(find(cr, ['paging']).value, '4level');
      const rfl = v.vm.vcpus[0].rflags;
      assert.match(find(regs, ['rflags', 'ZF']).value, new RegExp('^' + ((rfl >> 6) & 1)));
    });
  }

  it('shadow: Last VM exit decodes the exit and counts them by reason', () => {
    const { target, v } = runFixture(program('4level'), 'shadow');
    const scopes = scopesFor(target, v, 0);
    const exit = scopes.find((s) => s.name === 'Last VM exit')!.variables;
    const last = v.monitor!.lastExit!;
    assert.equal(find(exit, ['reason']).value, `${last.reason} ${last.reasonName}`);
    const counts = find(exit, ['exit counts']);
    assert.equal(counts.value, `${v.monitor!.totalExits} total`);
    assert.ok(counts.children!.some((c) => c.name.startsWith('28 ')), 'CR-access exits counted');
    const ctl = scopes.find((s) => s.name === 'Execution controls')!.variables;
    assert.equal(find(ctl, ['cr3LoadExiting']).value, 'true');
  });

  it('Translation shows the last walk with each level', () => {
    const { target, v } = runFixture(program('4level'), 'native');
    const tr = scopesFor(target, v, 0).find((s) => s.name === 'Translation')!.variables;
    assert.ok(tr.filter((x) => /^(PML4E|PDPTE|PDE|PTE) \[/.test(x.name)).length === 4);
  });

  const SETS: [string, bigint, bigint, bigint][] = [
    // register, value, rax before, rax after
    ['rax', 0x1234n, 0xffffffffffffffffn, 0x1234n],
    ['eax', 0x1234n, 0xffffffffffffffffn, 0xffffffff00001234n],
    ['ax', 0x1234n, 0xffffffffffffffffn, 0xffffffffffff1234n],
    ['al', 0x12n, 0xffffffffffffffffn, 0xffffffffffffff12n],
    ['eax', -1n, 0n, 0xffffffffn],
  ];
  for (const [name, value, before, after] of SETS) {
    it(`setRegister ${name} = ${value} keeps the other bytes of rax`, () => {
      const { v } = runFixture(program('32bit'), 'native');
      const cpu = v.vm.vcpus[0];
      cpu.setReg(0, BigInt.asIntN(64, before));
      setRegister(cpu, name, value);
      assert.equal(BigInt.asUintN(64, cpu.getReg(0)), after);
    });
  }
  it('setRegister validates rip, rflags, sizes and read-only registers', () => {
    const { v } = runFixture(program('4level'), 'native');
    const cpu = v.vm.vcpus[0];
    setRegister(cpu, 'rip', 0x2000n);
    assert.equal(cpu.ripValue, 0x2000n);
    assert.throws(() => setRegister(cpu, 'rip', 0x0000800000000000n), /not canonical/);
    assert.throws(() => setRegister(cpu, 'al', 0x100n), /does not fit in 8 bits/);
    assert.throws(() => setRegister(cpu, 'rflags', 1n << 3n), /bit 3 cannot be set/);
    assert.throws(() => setRegister(cpu, 'cr3', 0n), /read-only/);
    assert.throws(() => setRegister(cpu, 'xyz', 0n), /unknown register/);
    setRegister(cpu, 'zf', 1n);
    assert.equal(readRegister(cpu, 'zf'), 1n);
    setRegister(cpu, 'rflags', 0x202n | 1n);
    assert.equal(readRegister(cpu, 'cf'), 1n);
    assert.equal(readRegister(cpu, 'zf'), 0n);
  });
});

describe('inspect: console commands', () => {
  for (const f of FORMATS) {
    for (const mode of MODES) {
      it(`${f} ${mode}: walk prints every level with index and entry, and the TLB`, () => {
        const { target } = runFixture(program(f), mode);
        const text = runConsole(target, { vm: 1, vcpu: 0 }, `walk ${REMAPPED} + 0x10`).text;
        const names = f === '4level' ? ['PML4E', 'PDPTE', 'PDE', 'PTE'] : ['PDE', 'PTE'];
        for (const n of names) assert.match(text, new RegExp(`^  ${n}\\s+table`, 'm'));
        assert.match(text, /PTE\s+table 0x00013000 \[ 128\]/);
        assert.match(text, new RegExp(`→ gpa 0x0*${(REMAPPED_GPA + 0x10).toString(16)}`));
        assert.match(text, /TLB: /);
        if (mode === 'nested') assert.match(text, /EPT (table|final) gpa/);
        if (mode === 'shadow') assert.match(text, /shadow: agrees/);
        const miss = runConsole(target, { vm: 1, vcpu: 0 }, `walk ${UNMAPPED}`).text;
        assert.match(miss, /fault: PTE not present/);
        assert.match(runConsole(target, { vm: 1, vcpu: 0 }, `pte ${REMAPPED}`).text, new RegExp(`= 0x0*${(REMAPPED_GPA >> 12).toString(16)}[0-9a-f]{3} `));
        assert.match(runConsole(target, { vm: 1, vcpu: 0 }, 'tlb').text, /^TLB of vm1\/vcpu0/);
        assert.match(runConsole(target, { vm: 1, vcpu: 0 }, 'info vm').text, new RegExp(`${mode} mode`));
        assert.match(runConsole(target, { vm: 1, vcpu: 0 }, 'exits').text, mode === 'native' ? /no VM exits/ : /last exit:/);
      });
    }
  }
  it('ept <gpa> prints the EPT walk in nested mode only', () => {
    const n = runFixture(program('4level'), 'nested');
    const text = runConsole(n.target, { vm: 1, vcpu: 0 }, `ept ${REMAPPED_GPA}`).text;
    assert.match(text, /^EPTP 0x/);
    assert.match(text, /EPT PML4E/);
    assert.match(text, /EPT PTE/);
    const leaf = nestedOf(n.v)!.vmm.ept.leaf(REMAPPED_GPA)!;
    assert.match(text, new RegExp(`mpa 0x0*${leaf.mpa.toString(16)}`));
    assert.match(runConsole(runFixture(program('4level'), 'shadow').target, { vm: 1, vcpu: 0 }, 'ept 0').text, /no EPT/);
  });
  it('expressions, help and errors', () => {
    const { target } = runFixture(program('4level'), 'native');
    assert.equal(runConsole(target, { vm: 1, vcpu: 0 }, `[${REMAPPED}]`).value, MARKER);
    assert.equal(runConsole(target, { vm: 1, vcpu: 0 }, 'marker_done').value, BigInt(assembleOk(program('4level')).labels.get('marker_done')!));
    assert.match(runConsole(target, { vm: 1, vcpu: 0 }, 'help').text, /walk <gva>/);
    assert.throws(() => runConsole(target, { vm: 1, vcpu: 0 }, `[${UNMAPPED}]`), /cannot read 8 bytes at 0x81000/);
    assert.throws(() => runConsole(target, { vm: 2, vcpu: 0 }, 'rax'), /no VM 2/);
  });
  it('commands change nothing: memory and TLB identical', () => {
    for (const mode of MODES) {
      const { target, v } = runFixture(program('4level'), mode);
      const tlb = JSON.stringify([v.vm.tlbs[0].counters(), v.vm.tlbs[0].entries()]);
      const leafPte = readMemory(target, gpaRef(1, 0x13000 + 0x80 * 8), 0, 8).bytes.join();
      for (const c of [`walk ${REMAPPED} write user`, `walk ${UNMAPPED}`, 'pte rip', 'tlb', 'info vm', 'exits', `ept ${REMAPPED_GPA}`]) runConsole(target, { vm: 1, vcpu: 0 }, c);
      assert.equal(JSON.stringify([v.vm.tlbs[0].counters(), v.vm.tlbs[0].entries()]), tlb);
      assert.equal(readMemory(target, gpaRef(1, 0x13000 + 0x80 * 8), 0, 8).bytes.join(), leafPte);
    }
  });
});

describe('inspect: disassembly and code writes', () => {
  for (const mode of MODES) {
    it(`${mode}: disassembles around rip with source lines, forwards and backwards`, () => {
      const src = program('4level');
      const { target, v, program: prog } = runToLabel(src, mode, 'marker_done');
      const rip = v.vm.vcpus[0].ripValue;
      const ins = disassemble(target, v, 0, rip, -4, 5);
      assert.equal(ins.length, 5);
      assert.equal(ins[4].address, rip);
      assert.equal(ins[4].symbol, 'marker_done');
      for (let i = 0; i < 4; i++) assert.equal(ins[i].address + BigInt(ins[i].length), ins[i + 1].address);
      for (const x of ins) {
        assert.equal(x.valid, true, `${x.address.toString(16)}: ${x.text}`);
        const line = src.split('\n')[x.source!.line - 1].trim();
        assert.equal(line.split(/\s+/)[0], x.text.split(/\s+/)[0], `line ${x.source!.line} '${line}' vs '${x.text}'`);
      }
      assert.ok(prog.ok);
    });
  }
  it('unreadable memory is marked, not decoded', () => {
    const { target, v } = runFixture(program('4level'), 'native');
    const ins = disassemble(target, v, 0, BigInt(UNMAPPED), 0, 3);
    assert.ok(ins.every((x) => x.unreadable && x.text === '??'));
  });
  it('a write over code changes what executes (decoded instructions invalidated)', () => {
    for (const mode of MODES) {
      const src = program('4level', 'patch_me:\n    mov rdx, 1\n    mov rdx, 2');
      const prog = assembleOk(src);
      const s = startProgram(prog, { mode, memoryBytes: 16 * 1024 * 1024 });
      const target = createInspectTarget(s.machine, [{ vm: s.vm, program: prog, monitor: s.monitor }]);
      const at = BigInt(prog.labels.get('patch_me')!);
      while (s.vm.vcpus[0].ripValue !== at) s.vm.run(1);
      const v = target.vms[0];
      const before = disassemble(target, v, 0, at, 0, 2);
      assert.equal(before[1].text, 'mov rdx, 2');
      // Copy the second instruction over the first: rdx must end as 2 without ever being 1.
      const second = readMemory(target, gvaRef(1, 0, at + BigInt(before[0].length)), 0, before[1].length).bytes;
      assert.equal(before[0].length, before[1].length);
      writeMemory(target, gvaRef(1, 0, at), 0, second);
      assert.equal(disassemble(target, v, 0, at, 0, 1)[0].text, 'mov rdx, 2');
      s.vm.run(1);
      assert.equal(s.vm.vcpus[0].getReg(2), 2n, mode);
    }
  });
});

describe('inspect: table payloads', () => {
  for (const f of FORMATS) {
    for (const mode of MODES) {
      it(`${f} ${mode}: roots, then one table at a time down to the remapped PTE`, () => {
        const { target, v } = runFixture(program(f), mode);
        const roots = tableRoots(target);
        const g = roots.find((r) => r.kind === 'guest')!;
        assert.equal(g.address, f === '4level' ? 0x10000 : 0x12000);
        assert.equal(g.level, f === '4level' ? 4 : 2);
        assert.equal(roots.some((r) => r.kind === 'ept'), mode === 'nested');
        assert.equal(roots.some((r) => r.kind === 'shadow'), mode === 'shadow');
        let table = { address: g.address, level: g.level, base: 0 };
        const probe = probeTranslation(target, v, 0, BigInt(REMAPPED));
        for (const lvl of probe.guest.levels) {
          const p = tableEntries(target, { vm: 1, kind: 'guest', address: table.address, level: table.level, base: table.base });
          const e = p.entries.find((x) => x.index === lvl.index)!;
          assert.equal(BigInt(e.value), lvl.entry);
          assert.ok(e.maps.from <= REMAPPED && REMAPPED < e.maps.to);
          assert.ok(p.entries.every((x) => x.present), 'non-present hidden by default');
          table = { address: e.target!, level: table.level - 1, base: e.maps.from };
        }
        const pt = tableEntries(target, { vm: 1, kind: 'guest', address: probe.guest.levels[probe.guest.levels.length - 1].tableAddress, level: 1, includeNotPresent: true });
        assert.equal(pt.entries.length, f === '4level' ? 512 : 1024);
        assert.equal(pt.entries[0x81].present, false);
        assert.equal(pt.entries[0x80].target, REMAPPED_GPA);
        if (mode === 'nested') {
          const r = roots.find((x) => x.kind === 'ept')!;
          const e = tableEntries(target, { vm: 1, kind: 'ept', address: r.address, level: r.level });
          assert.equal(e.presentCount, e.entries.length);
          assert.ok(e.entries.length >= 1 && e.entries[0].index === 0);
          const leaves = nestedOf(v)!.vmm.ept.leaves();
          assert.ok(leaves.length > 0);
        }
        if (mode === 'shadow') {
          const r = roots.find((x) => x.kind === 'shadow' && x.vcpu === 0)!;
          const s = tableEntries(target, { vm: 1, kind: 'shadow', address: r.address, level: r.level });
          assert.equal(s.entries[0].index, 0);
          assert.equal(r.address / 4096, shadowOf(v)!.mmus[0].currentRoot!.sp.mpn);
        }
      });
    }
  }
  it('walk, TLB, statistics and frame-map payloads are JSON', () => {
    const { target } = runFixture(program('4level'), 'nested');
    const w = walkPayload(target, { vm: 1, vcpu: 0, gva: REMAPPED }) as Record<string, unknown>;
    assert.equal(w.ok, true);
    assert.equal(w.gva, '0x80000');
    const t = tlbPayload(target, 1, 0) as { entries: { mine: boolean }[] };
    assert.ok(t.entries.some((e) => e.mine));
    const st = statisticsPayload(target) as { vms: { mode: string }[] };
    assert.equal(st.vms[0].mode, 'nested');
    const fm = frameMapPayload(target) as { total: number; free: number; runs: { count: number }[] };
    assert.equal(fm.runs.reduce((n, r) => n + r.count, 0), fm.total);
    JSON.stringify([w, t, st, fm]);
  });
});

describe('inspect: event log', () => {
  it('keeps the most recent events within its capacity and counts every kind', () => {
    const prog = assembleOk(program('4level'));
    const s = startProgram(prog, { mode: 'shadow', memoryBytes: 16 * 1024 * 1024 });
    const log = new EventLog(8);
    log.attach(s.vm.bus, 1);
    assert.equal(s.vm.bus.wants['tlb-miss'], false, 'tlb-miss not armed');
    while (!s.vm.stopped) s.vm.run(100_000);
    const total = Object.values(log.counts).reduce((n, x) => n + (x ?? 0), 0);
    assert.equal(total, log.total);
    assert.ok(log.total > 8);
    const recent = log.recent(100);
    assert.equal(recent.length, 8);
    assert.equal(recent[7].seq, log.total - 1);
    assert.deepEqual(log.recent(3, log.total - 3).map((e) => e.seq), [log.total - 2, log.total - 1]);
    assert.ok((log.counts['vm-exit'] ?? 0) > 0);
  });
});
