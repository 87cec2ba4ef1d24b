// The hypercall handler of a paravirtual VM: `vmcall` exits (reason 18), rax = number, arguments
// in rdi, rsi, rdx, r10, r8 (Xen's x86-64 convention), result in rax (0 or −errno). Request
// batches live in guest memory at guest-linear addresses and are read through the guest's
// own page tables, as Xen's copy_from_guest does. Every call is reported as a `hypercall`
// event; a refused one carries `rejected`: which request, and the rule it broke, in words.
import type { EventBus } from '../../events';
import type { ExitAction, ExitingCpu } from '../../cpu/vmxPort';
import { SKIP } from '../../cpu/vmxPort';
import type { Vcpu } from '../../cpu/cpu';
import type { TlbFlushScope } from '../../events';
import {
  CONSOLEIO_WRITE, DOMID_SELF, ERRNO_NAMES, Errno, HYPERCALL_NAMES, Hypercall, MAX_BATCH, MMUEXT_NAMES, MMUEXT_OP_SIZE,
  MMU_UPDATE_SIZE, MmuUpdateOp, MmuextCmd,
} from './abi';
import type { FrameTypes, Rejection } from './frameTypes';
import { hex } from './frameTypes';
import type { ParavirtMmuPort } from './paravirtPort';

const ARG_REGS = [7, 6, 2, 10, 8]; // rdi, rsi, rdx, r10, r8
const RAX = 0;
const PORT_CONSOLE = 0xe9;
/** Bytes one console_io write may carry. */
const MAX_CONSOLE = 4096;

/** Counters the UI and tests read. */
export interface HypercallCounts {
  calls: number;
  rejected: number;
  byName: Record<string, number>;
}

export interface HypercallContext {
  types: FrameTypes;
  bus: EventBus;
  port(vcpu: number): ParavirtMmuPort;
  vcpu(i: number): Vcpu;
  vcpuCount(): number;
  /** Flushes every TLB entry of the VM (global ones included) and tells the type system. */
  flushAll(cause: string, vcpu: number): void;
}

type Outcome = { result: number; rejected?: string };

export class Hypercalls {
  readonly counts: HypercallCounts = { calls: 0, rejected: 0, byName: {} };

  constructor(private readonly ctx: HypercallContext) {}

  /** The VMCALL exit. */
  handle(cpu: ExitingCpu): ExitAction {
    const nr = Number(BigInt.asUintN(32, cpu.getReg(RAX)));
    const args = ARG_REGS.map((r) => cpu.getReg(r));
    const name = HYPERCALL_NAMES[nr] ?? `hypercall ${nr}`;
    let out: Outcome;
    if (this.ctx.vcpu(cpu.index).cpl !== 0) {
      out = fail({ errno: Errno.EPERM, why: 'hypercalls may be made by the guest kernel (CPL 0) only' });
    } else {
      switch (nr) {
        case Hypercall.MMU_UPDATE: out = this.mmuUpdate(cpu.index, args); break;
        case Hypercall.MMUEXT_OP: out = this.mmuextOp(cpu.index, args); break;
        case Hypercall.CONSOLE_IO: out = this.consoleIo(cpu.index, args); break;
        default: out = fail({ errno: Errno.ENOSYS, why: `there is no hypercall number ${nr}` });
      }
    }
    cpu.setReg(RAX, BigInt.asUintN(64, BigInt(out.result)));
    this.counts.calls++;
    this.counts.byName[name] = (this.counts.byName[name] ?? 0) + 1;
    if (out.rejected !== undefined) this.counts.rejected++;
    if (this.ctx.bus.wants.hypercall) {
      this.ctx.bus.emit({
        kind: 'hypercall', name, number: nr, args, result: BigInt.asUintN(64, BigInt(out.result)), rejected: out.rejected,
        icount: cpu.icount, vcpu: cpu.index, rip: cpu.ripValue,
      });
    }
    return SKIP;
  }

  // ------------------------------------------------------------------ mmu_update

  /** mmu_update(rdi = requests, rsi = count, rdx = done count out (or 0), r10 = domain). */
  private mmuUpdate(vcpu: number, [req, countArg, pdone, dom]: bigint[]): Outcome {
    const bad = checkBatch(countArg, dom);
    if (bad) return fail(bad);
    const count = Number(countArg);
    let done = 0;
    let flush = 0;
    let outcome: Outcome = { result: 0 };
    for (; done < count; done++) {
      const at = req + BigInt(done * MMU_UPDATE_SIZE);
      const ptrRaw = this.readGuest(vcpu, at);
      const val = this.readGuest(vcpu, at + 8n);
      if (ptrRaw === null || val === null) {
        outcome = fail({ errno: Errno.EFAULT, why: `request ${done}: the request array at ${hex(at)} is not readable` });
        break;
      }
      // Xen: cmd = ptr & (sizeof(l1_pgentry_t) - 1) — bits 2:0; 4–7 are no command (-ENOSYS).
      const op = Number(ptrRaw & 7n);
      const ptr = ptrRaw & ~7n;
      const where = `request ${done} of ${count} (ptr ${hex(ptrRaw)}, val ${hex(val)})`;
      if (op === MmuUpdateOp.MACHPHYS_UPDATE) {
        outcome = fail({ errno: Errno.ENOSYS, why: `${where}: MMU_MACHPHYS_UPDATE: this VMM keeps no machine-to-physical table` });
        break;
      }
      if (op > MmuUpdateOp.PT_UPDATE_NO_TRANSLATE) {
        outcome = fail({ errno: Errno.ENOSYS, why: `${where}: there is no mmu_update command ${op} (ptr bits 2:0)` });
        break;
      }
      // A frame Xen cannot look up (get_page_from_gfn fails) is -EINVAL.
      const r = ptr >= 2n ** 52n
        ? { errno: Errno.EINVAL, why: `machine address ${hex(ptr)} is beyond machine memory` }
        : this.ctx.types.update(Number(ptr), val, op === MmuUpdateOp.PT_UPDATE_PRESERVE_AD);
      if ('errno' in r) {
        outcome = fail({ errno: r.errno, why: `${where}: ${r.why}` });
        break;
      }
      if (r.level >= 2) flush = r.level;
    }
    // Xen flushes the TLB after an update to an L2–L4 table (non-leaf translations changed).
    if (flush) this.ctx.flushAll(`mmu_update of an L${flush} entry`, vcpu);
    if (pdone !== 0n && !this.writeGuest32(vcpu, pdone, done) && outcome.rejected === undefined) {
      return fail({ errno: Errno.EFAULT, why: `the done count at ${hex(pdone)} is not writable` });
    }
    return outcome;
  }

  // ------------------------------------------------------------------ mmuext_op

  /** mmuext_op(rdi = ops, rsi = count, rdx = done count out (or 0), r10 = domain); ops are {cmd, arg} qword pairs. */
  private mmuextOp(vcpu: number, [ops, countArg, pdone, dom]: bigint[]): Outcome {
    const bad = checkBatch(countArg, dom);
    if (bad) return fail(bad);
    const count = Number(countArg);
    let done = 0;
    let outcome: Outcome = { result: 0 };
    for (; done < count; done++) {
      const at = ops + BigInt(done * MMUEXT_OP_SIZE);
      const cmd = this.readGuest(vcpu, at);
      const arg = this.readGuest(vcpu, at + 8n);
      if (cmd === null || arg === null) {
        outcome = fail({ errno: Errno.EFAULT, why: `op ${done}: the op array at ${hex(at)} is not readable` });
        break;
      }
      const r = this.extOp(vcpu, Number(BigInt.asUintN(32, cmd)), arg);
      if (r) {
        const what = MMUEXT_NAMES[Number(cmd)] ?? `command ${cmd}`;
        outcome = fail({ errno: r.errno, why: `op ${done} of ${count} (${what} ${hex(arg)}): ${r.why}` });
        break;
      }
    }
    if (pdone !== 0n && !this.writeGuest32(vcpu, pdone, done) && outcome.rejected === undefined) {
      return fail({ errno: Errno.EFAULT, why: `the done count at ${hex(pdone)} is not writable` });
    }
    return outcome;
  }

  private extOp(vcpu: number, cmd: number, arg: bigint): Rejection | null {
    const types = this.ctx.types;
    const mfn = arg < 2n ** 40n ? Number(arg) : -1;
    switch (cmd) {
      case MmuextCmd.PIN_L1_TABLE:
      case MmuextCmd.PIN_L2_TABLE:
      case MmuextCmd.PIN_L3_TABLE:
      case MmuextCmd.PIN_L4_TABLE:
        return types.pin(mfn, cmd + 1);
      case MmuextCmd.UNPIN_TABLE:
        return types.unpin(mfn);
      case MmuextCmd.NEW_BASEPTR: {
        const bad = types.newBase(vcpu, mfn);
        if (bad) return bad;
        // The VMM loads CR3 for the guest: the same flush and events as a MOV CR3 (for the
        // current base too: Xen's new_guest_cr3 still calls write_ptbase).
        const cr3 = mfn * 4096;
        this.ctx.vcpu(vcpu).writeCr(3, cr3 % 2 ** 32, Math.floor(cr3 / 2 ** 32));
        return null;
      }
      case MmuextCmd.TLB_FLUSH_LOCAL:
      case MmuextCmd.TLB_FLUSH_ALL: {
        const all = cmd === MmuextCmd.TLB_FLUSH_ALL;
        for (let i = 0; i < this.ctx.vcpuCount(); i++) {
          if (!all && i !== vcpu) continue;
          const mmu = this.ctx.port(i).mmu;
          this.emitFlush(i, mmu.tlb.flushVpid(mmu.vpid, true), `mmuext_op ${MMUEXT_NAMES[cmd]}`);
        }
        return null;
      }
      case MmuextCmd.INVLPG_LOCAL:
      case MmuextCmd.INVLPG_ALL: {
        const lin = canonicalLinear(arg);
        // Xen ignores a non-canonical address (paging_invlpg / __addr_ok), as INVLPG is a no-op there.
        if (lin < 0) return null;
        for (let i = 0; i < this.ctx.vcpuCount(); i++) {
          if (cmd === MmuextCmd.INVLPG_LOCAL && i !== vcpu) continue;
          this.emitFlush(i, this.ctx.port(i).invlpg(lin), `mmuext_op ${MMUEXT_NAMES[cmd]}`, arg);
        }
        return null;
      }
      default:
        return { errno: Errno.ENOSYS, why: `there is no mmuext_op command ${cmd}` };
    }
  }

  // ------------------------------------------------------------------ console_io

  /** console_io(rdi = CONSOLEIO_write, rsi = count, rdx = buffer): text on the console, as port 0xE9 would print it. */
  private consoleIo(vcpu: number, [cmd, countArg, buf]: bigint[]): Outcome {
    if (cmd !== BigInt(CONSOLEIO_WRITE)) return fail({ errno: Errno.ENOSYS, why: `console_io command ${cmd} is not supported (only CONSOLEIO_write = 0)` });
    if (countArg > BigInt(MAX_CONSOLE)) return fail({ errno: Errno.EINVAL, why: `at most ${MAX_CONSOLE} bytes per console_io write` });
    const n = Number(countArg);
    const bytes: number[] = [];
    for (let i = 0; i < n; i++) {
      const ma = this.machineAddress(vcpu, buf + BigInt(i), false);
      if (ma < 0) return fail({ errno: Errno.EFAULT, why: `byte ${i} of the buffer at ${hex(buf)} is not readable` });
      bytes.push(this.ctx.types.machine.bytes.read8(ma));
    }
    const io = this.ctx.vcpu(vcpu).io;
    for (const b of bytes) io.out(PORT_CONSOLE, 1, b);
    return { result: n };
  }

  // ------------------------------------------------------------------ guest memory

  /** Machine address of a guest-linear address as the guest kernel would reach it, or -1. */
  private machineAddress(vcpu: number, linear: bigint, write: boolean): number {
    const port = this.ctx.port(vcpu);
    if (port.isPagingOff) {
      if (linear < 0n || linear >= 2n ** 32n) return -1;
      const ma = port.physical(Number(linear), write);
      return ma >= this.ctx.types.machine.size ? -1 : ma;
    }
    const lin = canonicalLinear(linear);
    if (lin < 0) return -1;
    // A probe walk: supervisor rights, no A/D written, no TLB fill.
    const rec = port.mmu.walk(lin, write ? 'write' : 'read', false, { setAccessedDirty: false, ac: true });
    if (!rec.ok || rec.physical === undefined) return -1;
    if (write && this.ctx.types.isTable(Math.floor(rec.physical / 4096))) return -1;
    return rec.physical;
  }

  private readGuest(vcpu: number, linear: bigint): bigint | null {
    if (linear % 8n !== 0n) return null;
    const ma = this.machineAddress(vcpu, linear, false);
    if (ma < 0) return null;
    const b = this.ctx.types.machine.bytes;
    return (BigInt(b.read32(ma + 4) >>> 0) << 32n) | BigInt(b.read32(ma) >>> 0);
  }

  private writeGuest32(vcpu: number, linear: bigint, v: number): boolean {
    if (linear % 4n !== 0n) return false;
    const ma = this.machineAddress(vcpu, linear, true);
    if (ma < 0) return false;
    this.ctx.types.machine.bytes.write32(ma, v);
    return true;
  }

  private emitFlush(vcpu: number, res: { scope: TlbFlushScope; entriesRemoved: number }, cause: string, gva?: bigint): void {
    if (!this.ctx.bus.wants['tlb-flush']) return;
    const c = this.ctx.vcpu(vcpu);
    this.ctx.bus.emit({ kind: 'tlb-flush', scope: res.scope, cause, gva, entriesRemoved: res.entriesRemoved, icount: c.icount, vcpu, rip: c.ripValue });
  }
}

function fail(r: Rejection): Outcome {
  return { result: -r.errno, rejected: `${ERRNO_NAMES[r.errno] ?? r.errno}: ${r.why}` };
}

function checkBatch(count: bigint, dom: bigint): Rejection | null {
  if (dom !== BigInt(DOMID_SELF)) return { errno: Errno.EPERM, why: `domain ${hex(dom)}: a guest may update only its own tables (DOMID_SELF = ${hex(DOMID_SELF)})` };
  if (count > BigInt(MAX_BATCH)) return { errno: Errno.EINVAL, why: `${count} requests: at most ${MAX_BATCH} per call` };
  return null;
}

/** A canonical 48-bit address as the MMU takes it (< 2^48), or -1. */
function canonicalLinear(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  const top = u >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return -1;
  return Number(u & 0xffff_ffff_ffffn);
}
