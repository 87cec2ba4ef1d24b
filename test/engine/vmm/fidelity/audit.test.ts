// The MMU audit (src/engine/vmm/audit.ts) catches planted bugs: corrupted frame accounting,
// p2m entries, shadow entries and EPT entries, each reported in words; a clean run reports
// nothing; the runner's `audit` option stops a run at the first violation. Mode-specific
// plants run for each mode that is registered (and are skipped, saying so, until it is).
import { strict as assert } from 'node:assert';
import { assembleOk } from '../../../support/runAsm';
import { generateProgram, renderProgram } from '../../../support/guestGen/generate';
import { runStarted, startProgram, StartedProgram } from '../../../../src/engine/runner';
import { auditMachine } from '../../../../src/engine/vmm/audit';
import { availableModes } from '../../../../src/engine/vmm/modes';
import type { MemoryMode } from '../../../../src/engine/vm';
import type { Machine } from '../../../../src/engine/machine/machine';
import type { FrameUse } from '../../../../src/engine/machine/frameTable';
import type { P2m } from '../../../../src/engine/vmm/p2m';

const GUEST = 16 * 1024 * 1024;
const virtualModes = (): MemoryMode[] => availableModes().filter((m) => m !== 'native') as MemoryMode[];

/** A plain guest (no paging) that touches a few pages: runs in every mode, paravirt included. */
const PLAIN = `
.org 0x10000
_start:
  mov rsp, 0x9000
  mov rcx, 0
.loop:
  mov rax, rcx
  shl rax, 12
  mov qword [0x200000 + rax], rcx
  inc rcx
  cmp rcx, 8
  jne .loop
  cli
  hlt
`;

function start(src: string, mode: MemoryMode, steps: number): StartedProgram & { machine: Machine } {
  const s = startProgram(assembleOk(src), { mode, memoryBytes: GUEST, machineBytes: 2 * GUEST, maxSteps: 1_000_000 });
  if (!s.machine) throw new Error('no machine');
  s.vm.run(steps);
  return s as StartedProgram & { machine: Machine };
}

/** A paging guest from the generator (4-level, tables built, playground touched). */
function pagingGuest(mode: MemoryMode): StartedProgram & { machine: Machine } {
  const p = generateProgram(7, { format: 'long4', sloppy: false, ops: 30 });
  const s = start(renderProgram(p), mode, 1_000_000);
  return s;
}

function p2mOf(s: { machine: Machine; vm: StartedProgram['vm'] }): { p2m: P2m; vmId: number } {
  const parts = s.machine.partsOf(s.vm);
  if (!parts) throw new Error('the machine does not know the VM: createVirtualVm must register its parts');
  return parts;
}

/** Frames of `use` the VM owns. */
function framesOf(machine: Machine, owner: number, use: FrameUse): number[] {
  const out: number[] = [];
  for (let f = 0; f < machine.memory.frames.total; f++) if (machine.memory.frames.ownerOf(f) === owner && machine.memory.frames.useOf(f) === use) out.push(f);
  return out;
}

interface Leaf {
  /** Machine address of the entry. */
  at: number;
  low: number;
  target: number;
}

/** Present 8-byte entries in the VM's `tableUse` frames that point at the VM's guest frames (leaves). */
function leaves(machine: Machine, owner: number, tableUse: FrameUse, present: (low: number) => boolean): Leaf[] {
  const out: Leaf[] = [];
  const bytes = machine.memory.bytes;
  for (const f of framesOf(machine, owner, tableUse)) {
    for (let i = 0; i < 512; i++) {
      const at = f * 4096 + i * 8;
      const low = bytes.read32(at) >>> 0;
      const high = bytes.read32(at + 4) & 0xfffff;
      if (!present(low) || high !== 0) continue;
      const target = Math.floor(low / 4096);
      const use = machine.memory.frames.useOf(target);
      if (machine.memory.frames.ownerOf(target) === owner && (use === 'guest-data' || use === 'guest-pt')) out.push({ at, low, target });
    }
  }
  return out;
}

/** Points an entry at another frame, keeping its flags. */
function retarget(machine: Machine, leaf: Leaf, frame: number): void {
  machine.memory.bytes.write32(leaf.at, ((frame * 4096) | (leaf.low & 0xfff)) >>> 0);
}

describe('MMU audit: clean runs report nothing', () => {
  for (const mode of virtualModes()) {
    it(`${mode}: a plain guest, audited after every instruction`, () => {
      const s = startProgram(assembleOk(PLAIN), { mode, memoryBytes: GUEST, machineBytes: 2 * GUEST });
      const r = runStarted(s, { audit: true, maxSteps: 100_000 });
      assert.equal(r.exit.reason, 'halted', r.exit.message);
    });
    if (mode === 'paravirt') continue; // its guests build tables through hypercalls: the generator's do not
    it(`${mode}: a generated paging guest, audited after every instruction`, () => {
      const p = generateProgram(11, { format: 'long4', ops: 40 });
      const s = startProgram(assembleOk(renderProgram(p)), { mode, memoryBytes: GUEST, machineBytes: 2 * GUEST });
      const r = runStarted(s, { audit: true, maxSteps: 400_000 });
      assert.equal(r.exit.reason, 'halted', r.exit.message);
    });
  }
});

describe('MMU audit: planted machine-level bugs are reported', () => {
  const mode = virtualModes().find((m) => m !== 'paravirt');
  const plants: [string, (s: StartedProgram & { machine: Machine }) => void, RegExp][] = [
    ['a p2m-mapped frame released behind the p2m\'s back', (s) => {
      const { p2m } = p2mOf(s);
      s.machine.memory.frames.release(p2m.entries()[0][1]);
    }, /p2m maps ppn 0x[0-9a-f]+ to mpn 0x[0-9a-f]+, which is free/],
    ['a frame handed to an owner that is no VM', (s) => {
      s.machine.memory.allocate(77, 'guest-data');
    }, /owner 77 holds frames but is no VM/],
    ['a guest frame the VM owns outside its p2m (a leak)', (s) => {
      s.machine.memory.allocate(p2mOf(s).vmId, 'guest-data', 3);
    }, /that its p2m does not map \(leaked\)/],
    ['a p2m-mapped frame re-used as an EPT table', (s) => {
      const { p2m } = p2mOf(s);
      s.machine.memory.frames.setUse(p2m.entries()[0][1], 'ept');
    }, /a 'ept' frame/],
    ['a p2m entry pointing at another guest page\'s frame', (s) => {
      const { p2m } = p2mOf(s);
      const [[ppnA], [, mpnB]] = p2m.entries();
      (p2m as unknown as { map: Float64Array }).map[ppnA] = mpnB;
    }, /is also mapped by another ppn of this VM|which the frame table says backs ppn/],
    ['a p2m entry pointing at a hypervisor frame', (s) => {
      const { p2m } = p2mOf(s);
      (p2m as unknown as { map: Float64Array }).map[p2m.entries()[0][0]] = 0;
    }, /belongs to owner 0/],
    ['a wrong free count in the frame table', (s) => {
      (s.machine.memory.frames as unknown as { freeCount: number }).freeCount++;
    }, /free count says \d+, a recount finds \d+/],
  ];
  for (const [name, plant, expected] of plants) {
    it(name, function () {
      if (!mode) this.skip();
      const s = start(PLAIN, mode as MemoryMode, 200);
      assert.deepEqual(auditMachine(s.machine), [], 'clean before the plant');
      plant(s);
      const v = auditMachine(s.machine);
      assert.ok(v.some((x) => expected.test(x)), `expected ${expected} among:\n${v.join('\n')}`);
    });
  }

  it('the runner\'s audit option stops the run at the first violation, with it in the message', function () {
    if (!mode) this.skip();
    const s = start(PLAIN, mode as MemoryMode, 5);
    s.machine.memory.allocate(77, 'guest-data');
    const r = runStarted(s, { audit: true, maxSteps: 100_000 });
    assert.equal(r.exit.reason, 'error');
    assert.match(r.exit.message, /MMU audit failed after \d+ instructions .*owner 77/);
    assert.ok(r.instructions <= 5, 'stopped before running on');
  });

  it('native mode: the option has nothing to audit and changes nothing', () => {
    const s = startProgram(assembleOk(PLAIN), { memoryBytes: GUEST });
    const r = runStarted(s, { audit: true, maxSteps: 100_000 });
    assert.equal(r.exit.reason, 'halted');
  });
});

describe('MMU audit: planted mode-level bugs are reported by the mode\'s own audit', () => {
  it('shadow: a shadow leaf retargeted to another guest frame (leaf ≠ p2m(guest walk))', function () {
    if (!availableModes().includes('shadow')) this.skip();
    const s = pagingGuest('shadow');
    const { vmId } = p2mOf(s);
    assert.deepEqual(auditMachine(s.machine), [], 'clean before the plant');
    const ls = leaves(s.machine, vmId, 'shadow-pt', (low) => (low & 1) === 1);
    assert.ok(ls.length > 0, 'the shadow tables have leaves');
    const data = framesOf(s.machine, vmId, 'guest-data');
    const other = data.find((f) => f !== ls[0].target) as number;
    retarget(s.machine, ls[0], other);
    const v = auditMachine(s.machine);
    assert.ok(v.some((x) => /\[shadow\]/.test(x)), `expected a shadow violation among:\n${v.join('\n')}`);
  });

  it('shadow: a writable shadow mapping of a traced guest page table', function () {
    if (!availableModes().includes('shadow')) this.skip();
    // Map a playground page onto the guest's own leaf table, then read through it: the shadow maps a traced page read-only.
    const src = renderProgram(generateProgram(7, { format: 'long4', sloppy: true, ops: 0 })).replace(
      '  mov cr0, rax\n',
      '  mov cr0, rax\n  mov rax, 0x10a007\n  mov qword [0x10a000], rax\n  mov rax, 0x10c007\n  mov qword [0x10a008], rax\n  mov rax, 0x8000000000\n  invlpg [rax]\n  mov rbx, [rax]\n  mov rbx, 0x8000001000\n  mov rbx, [rbx]\n',
    );
    const t = start(src, 'shadow', 1_000_000);
    const { vmId } = p2mOf(t);
    assert.deepEqual(auditMachine(t.machine), [], 'clean before the plant');
    const toPt = leaves(t.machine, vmId, 'shadow-pt', (low) => (low & 1) === 1).filter((l) => t.machine.memory.frames.useOf(l.target) === 'guest-pt');
    assert.ok(toPt.length > 0, 'some shadow leaf maps a traced guest page table');
    t.machine.memory.bytes.write32(toPt[0].at, (toPt[0].low | 2) >>> 0);
    const v = auditMachine(t.machine);
    assert.ok(v.some((x) => /\[shadow\]/.test(x)), `expected a shadow violation among:\n${v.join('\n')}`);
  });

  it('nested: an EPT leaf retargeted to a frame the VM does not own', function () {
    if (!availableModes().includes('nested')) this.skip();
    const s = pagingGuest('nested');
    const { vmId } = p2mOf(s);
    assert.deepEqual(auditMachine(s.machine), [], 'clean before the plant');
    const ls = leaves(s.machine, vmId, 'ept', (low) => (low & 7) !== 0 && (low & 0x80) === 0);
    assert.ok(ls.length > 0, 'the EPT has 4 KiB leaves');
    const foreign = s.machine.memory.allocate(0, 'vmm') as number;
    retarget(s.machine, ls[0], foreign);
    const v = auditMachine(s.machine);
    assert.ok(v.some((x) => /\[nested\]/.test(x)), `expected a nested violation among:\n${v.join('\n')}`);
  });

  it('nested: an EPT leaf retargeted to another of the VM\'s own frames (EPT ≠ p2m)', function () {
    if (!availableModes().includes('nested')) this.skip();
    const s = pagingGuest('nested');
    const { vmId } = p2mOf(s);
    const ls = leaves(s.machine, vmId, 'ept', (low) => (low & 7) !== 0 && (low & 0x80) === 0);
    const other = ls.find((l) => l.target !== ls[0].target) as Leaf;
    retarget(s.machine, ls[0], other.target);
    const v = auditMachine(s.machine);
    assert.ok(v.some((x) => /\[nested\]/.test(x)), `expected a nested violation among:\n${v.join('\n')}`);
  });
});
