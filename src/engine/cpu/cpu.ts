// One vCPU: fetch (through the MMU) → predecoded instruction → execute. Faults abort the
// instruction by throwing the FAULT sentinel; the run loop delivers them through the IDT.
// Registers are 64-bit values in two Int32Array halves: no BigInt on the hot path.
import { BREAKPOINT_OP, Insn } from '../isa/instruction';
import { decode, MAX_INSN_LENGTH } from '../isa/encoding';
import { Form, Op } from '../isa/opcodes';
import { Frame, PAGE_SIZE, checkWatch } from '../memory/frame';
import type { PhysicalMemory } from '../memory/physicalMemory';
import type { EventBus } from '../events';
import { AluResult, ArithFlags, add64, addSub, fromBig, logic, logic64, maskLo, shift, sub64, toBig, toSignedBig } from './alu';
import { Access, AccessCode, FlushResult, MmuPort } from './mmuPort';
import { Vector, hasErrorCode, makesDoubleFault, vectorName } from './exceptions';
import { CR0_VALID, CR4_VALID, Cr0, Cr4, EFER_WRITABLE, Efer, Msr, Rflags } from './msr';
import { CpuState, cpuStateFromHalves } from './cpuState';
import type { ExitRequest, VmxPort } from './vmxPort';
import { CrAccessType, ExitReason, InterruptionType, crAccessQualification, interruptionInfo, ioQualification } from '../vmm/exitReasons';
import { ExecInsn, Kind, breakpointInsn, specialise } from './insnKind';
import { HitReplay, hitReplayOf } from './hitReplay';

/** Thrown (never constructed per fault) to unwind a faulting instruction. */
export const FAULT = { fault: true };
/** faultVector of an instruction aborted because the VM was stopped (engineLimit). */
const ENGINE_LIMIT = -2;
/** faultVector of an instruction not executed because a breakpoint stopped the vCPU before it. */
const BREAKPOINT_STOP = -3;


const TWO32 = 4294967296;
/** RFLAGS bits that exist: CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID (and bit 1). */
const RFLAGS_STORED = 0x3f7fd7;
/** Linear addresses are JS numbers: exact below 2^53, which 5-level paging can exceed. */
const EXACT_LIMIT = 2 ** 53;

/** Int32Array views read words in host order; the memo fast paths use them only on little-endian hosts. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const EMPTY_WORDS = new Int32Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(8));

export interface IoBus {
  in(port: number, size: number): number;
  out(port: number, size: number, value: number): void;
}

export type RunState = 'running' | 'halted' | 'stopped';

export interface VcpuOptions {
  index: number;
  maxPhyAddr: number;
  timerVector?: number;
  timerPeriod?: number;
  /**
   * false: every instruction runs through the generic executor and every fetch is translated.
   * That is the reference the fast paths are differentially tested against; default true.
   */
  fastPaths?: boolean;
}

export class Vcpu {
  readonly index: number;
  readonly lo = new Int32Array(16);
  readonly hi = new Int32Array(16);
  /** rip as a signed number: canonical 48/57-bit values are exact; 32-bit value when not in long mode. */
  rip = 0;
  readonly flags = new ArithFlags();
  /** IF, DF, AC and the rest of rflags that are not arithmetic. */
  otherFlags = Rflags.FIXED1;
  cpl = 0;
  cr0 = Cr0.PE | Cr0.ET;
  cr2 = 0n;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  idtBase = 0n;
  idtLimit = 0;
  rsp0Lo = 0;
  rsp0Hi = 0;
  timerPeriod = 0;
  timerVector: number = Vector.TIMER;
  /** Instructions retired by this vCPU. */
  icount = 0;
  state: RunState = 'running';
  /** The hypervisor this vCPU runs under (VMX non-root), or null in native mode. */
  vmx: VmxPort | null = null;
  /** Set by requestPause(); run() returns at the next instruction boundary. */
  pauseRequested = false;
  /** Set when the last stop was a breakpoint (the machine-physical address of the instruction). */
  breakpointHit: number | null = null;
  private resumeRip = NaN;
  private resumeIcount = -1;
  stopReason = '';
  /** Why the vCPU stopped for good (null while it has not). */
  stopKind: 'halted' | 'triple-fault' | 'shutdown' | 'error' | null = null;
  /** The last exception delivered (for the UI). */
  lastException: { vector: number; errorCode: number | undefined; rip: number } | null = null;

  // Derived from control registers on every change.
  private longMode = false;
  private laHiMask = 0;
  private laBits = 32;
  /** 2^(laBits-1) in long mode (the canonical limit for rip), else 2^32; and 2^laBits. */
  private laHalf = TWO32;
  private laSize = TWO32;

  // Pending fault being raised.
  private faultVector = -1;
  private faultError: number | undefined = undefined;
  /** Exceptions raised while delivering one another, for the triple-fault message. */
  private readonly faultChain: string[] = [];

  private nextTimerAt = Infinity;
  /** No interrupt is recognised before this icount (the instruction after STI runs first). */
  private interruptShadowUntil = 0;
  private timerPending = false;
  /** icount at which slow checks (timer, pending interrupts) run. */
  private checkAt = Infinity;
  private insnStart = 0;

  private readonly r = new AluResult();
  // Memory-operand scratch: the last load.
  private mLo = 0;
  private mHi = 0;
  private readonly frameCacheNum = new Float64Array(64).fill(-1);
  private readonly frameCache: (Frame | undefined)[] = new Array(64).fill(undefined);
  private readonly fetchBuf = new Uint8Array(MAX_INSN_LENGTH * 2);

  /**
   * false: every instruction runs through the generic executor and every fetch is translated,
   * the reference the fast paths are differentially tested against. May change between runs.
   */
  fastPaths: boolean;
  private readonly replay: HitReplay | null;
  // The code-page memo: the page of the last translated fetch, its frame's decoded array and
  // the TLB slot that fetch hit. While the MMU's epoch stands (no TLB fill or drop, no control
  // register change), the access key (CPL, AC) is the same and the frame keeps the same decoded
  // array (any physical write elsewhere replaces it; a CPU store clears entries in place), a
  // fetch from this page would translate to the same frame by hitting the same slot, so the
  // hit is replayed (counted and stamped) and the cached instruction reused without a lookup.
  private codeRip = 0;
  private codeFrame: Frame = new Frame(-1);
  private codeDecoded: (Insn | undefined)[] = [];
  private codeEpoch = -1;
  private codeSlot = -1;
  private codeKey = -1;
  // Data-page memos for 8-byte loads and stores, on the same terms as the code-page memo: the
  // page of the last translated access of that kind, the frame's words and the slot it hit.
  // Only frames that exist and lie wholly inside memory are memoised, so the fast access needs
  // neither the sparse-memory nor the end-of-memory checks.
  private rdLin = 0;
  private rdEpoch = -1;
  private rdSlot = -1;
  private rdKey = -1;
  private rdWords = EMPTY_WORDS;
  private rdView = EMPTY_VIEW;
  private wrLin = 0;
  private wrEpoch = -1;
  private wrSlot = -1;
  private wrKey = -1;
  private wrWords = EMPTY_WORDS;
  private wrView = EMPTY_VIEW;
  private wrFrame: Frame = new Frame(-1);

  constructor(
    options: VcpuOptions,
    readonly mem: PhysicalMemory,
    readonly mmu: MmuPort,
    readonly bus: EventBus,
    readonly io: IoBus,
  ) {
    this.index = options.index;
    this.fastPaths = options.fastPaths ?? true;
    this.replay = hitReplayOf(mmu);
    if (options.timerVector !== undefined) this.timerVector = options.timerVector;
    if (options.timerPeriod) this.setTimer(options.timerPeriod);
    this.syncMode();
  }

  // ---------------------------------------------------------------- state views

  get interruptsEnabled(): boolean {
    return (this.otherFlags & Rflags.IF) !== 0;
  }

  get rflags(): number {
    const f = this.flags;
    return (this.otherFlags | f.cf | (f.pf << 2) | (f.af << 4) | (f.zf << 6) | (f.sf << 7) | (f.of << 11)) >>> 0;
  }

  set rflags(v: number) {
    const f = this.flags;
    f.cf = v & 1;
    f.pfByte = v & Rflags.PF ? 0 : 1; // parity of 0 is even (PF=1), of 1 is odd (PF=0)
    f.af = (v >> 4) & 1;
    f.zf = (v >> 6) & 1;
    f.sf = (v >> 7) & 1;
    f.of = (v >> 11) & 1;
    // Reserved bits (3, 5, 15, 22–63) read as 0 and bit 1 as 1 (SDM vol. 1 §3.4.3); IOPL is
    // always 0 on this machine (docs/machine.md), so it is not stored either.
    this.otherFlags = (v & RFLAGS_STORED & ~(0x8d5 | 0x3000)) | Rflags.FIXED1;
  }

  getReg(i: number): bigint {
    return toBig(this.lo[i], this.hi[i]);
  }

  setReg(i: number, v: bigint): void {
    fromBig(this.r, v);
    this.lo[i] = this.r.lo;
    this.hi[i] = this.r.hi;
  }

  /** rip as the 64-bit register value. */
  get ripValue(): bigint {
    return BigInt.asUintN(64, BigInt(this.rip));
  }

  setRip(v: bigint): void {
    this.rip = this.longMode ? Number(BigInt.asIntN(64, v)) : Number(BigInt.asUintN(32, v));
  }

  snapshot(): CpuState {
    return cpuStateFromHalves(this);
  }

  get isLongMode(): boolean {
    return this.longMode;
  }

  get linearBits(): number {
    return this.laBits;
  }

  setTimer(period: number): void {
    this.timerPeriod = period;
    this.nextTimerAt = period > 0 ? this.icount + period : Infinity;
    this.recomputeCheckAt();
  }

  private recomputeCheckAt(): void {
    this.checkAt = this.timerPending && this.interruptsEnabled ? Math.max(this.icount, this.interruptShadowUntil) : this.nextTimerAt;
  }

  // ---------------------------------------------------------------- run loop

  /** Runs up to `budget` instructions; returns how many retired. */
  run(budget: number): number {
    const start = this.icount;
    const end = start + budget;
    this.pauseRequested = false;
    while (this.icount < end && this.state === 'running' && !this.pauseRequested) {
      try {
        if (this.fastPaths) this.runFast(end);
        else this.runGeneric(end);
      } catch (e) {
        if (e !== FAULT) throw e;
        this.rip = this.insnStart;
        this.deliverPending();
      }
    }
    if (this.state === 'halted' && this.icount < end) this.wakeFromHalt(end);
    return this.icount - start;
  }

  /**
   * The run loop with the fast paths: the code-page memo checked inline, and the specialised
   * handlers (insnKind.ts) inline, each doing exactly what execute() does for its (op, form,
   * size) minus the dispatch on form and size. None of them changes the run state, CPL, AC,
   * checkAt or the timer, which is what lets the loop skip those re-checks after them.
   */
  private runFast(end: number): void {
    const rp = this.replay;
    // The next icount at which the loop must look up: the budget's end or a slow check.
    let stop = this.checkAt < end ? this.checkAt : end;
    // True while the memo's access key and decoded array are known to match: set by a fetch
    // that checked or rebuilt them, kept across specialised handlers (they change neither
    // CPL nor AC, and a frame's decoded array is replaced only by a page walk's A/D write,
    // which comes with a TLB fill and so an epoch change), cleared by anything else.
    let verified = false;
    for (;;) {
      const icount = this.icount;
      if (icount >= stop) {
        if (icount >= end) break;
        if (icount >= this.checkAt && this.slowChecks()) {
          if (this.pauseRequested) break;
          verified = false;
          stop = this.checkAt < end ? this.checkAt : end;
          continue;
        }
        stop = this.checkAt < end ? this.checkAt : end;
      }
      this.insnStart = this.rip;
      let insn: ExecInsn | undefined;
      const d = this.rip - this.codeRip;
      if (d >= 0 && d < PAGE_SIZE && rp !== null && this.codeEpoch === rp.epoch && (verified || (this.codeFrame.decoded === this.codeDecoded && this.codeKey === this.accessKey()))) {
        insn = this.codeDecoded[d] as ExecInsn | undefined;
        if (insn !== undefined && this.codeSlot >= 0) rp.replayHit(Access.FETCH, this.codeSlot);
      }
      if (insn === undefined) {
        // Listeners can ask for a pause only from a slow path (an event), and every slow path
        // a fast handler can take fills the TLB and so changes the epoch, failing the memo
        // above: checking here, before the fetch, stops right after that instruction.
        if (this.pauseRequested) break;
        insn = this.fetchTranslated();
      }
      const kind = insn.kind;
      if (kind === Kind.GENERIC) {
        verified = false;
        this.execute(insn);
        this.icount = icount + 1;
        if (this.state !== 'running' || this.pauseRequested) break;
        stop = this.checkAt < end ? this.checkAt : end;
        continue;
      }
      verified = true;
      const lo = this.lo;
      const hi = this.hi;
      const r0 = insn.r0;
      const f = this.flags;
        switch (kind) {
          case Kind.ALU_RR8:
          case Kind.ALU_RI8:
          case Kind.ALU_RM8: {
            let bLo: number;
            let bHi: number;
            if (kind === Kind.ALU_RI8) {
              bLo = insn.immLo;
              bHi = insn.immHi;
            } else if (kind === Kind.ALU_RR8) {
              bLo = lo[insn.r1];
              bHi = hi[insn.r1];
            } else {
              this.load64(this.ea(insn));
              bLo = this.mLo;
              bHi = this.mHi;
            }
            // One call site per helper keeps them within V8's inlining budget for this loop.
            const op = insn.op;
            if (op === Op.ADD) add64(f, lo, hi, r0, bLo, bHi);
            else if (op === Op.SUB || op === Op.CMP) sub64(f, lo, hi, r0, bLo, bHi, op === Op.SUB);
            else logic64(f, lo, hi, r0, op === Op.AND || op === Op.TEST ? 0 : op === Op.OR ? 1 : 2, bLo, bHi, op !== Op.TEST);
            break;
          }
          case Kind.MOV_RR8:
            lo[r0] = lo[insn.r1];
            hi[r0] = hi[insn.r1];
            break;
          case Kind.MOV_RI8:
            lo[r0] = insn.immLo | 0;
            hi[r0] = insn.immHi | 0;
            break;
          case Kind.MOV_RM8:
            this.load64(this.ea(insn));
            lo[r0] = this.mLo;
            hi[r0] = this.mHi;
            break;
          case Kind.MOV_MR8:
            this.store64(this.ea(insn), lo[r0], hi[r0]);
            break;
          case Kind.MOV_MI8:
            this.store64(this.ea(insn), insn.immLo | 0, insn.immHi | 0);
            break;
          case Kind.INC_R8: {
            const cf = this.flags.cf; // INC/DEC leave CF alone
            add64(this.flags, lo, hi, r0, 1, 0);
            this.flags.cf = cf;
            break;
          }
          case Kind.DEC_R8: {
            const cf = this.flags.cf;
            sub64(this.flags, lo, hi, r0, 1, 0, true);
            this.flags.cf = cf;
            break;
          }
          case Kind.JCC: {
            const next = this.rip + insn.length;
            this.rip = this.condition(insn.op - Op.JCC) ? this.relTarget(next + insn.rel) : next;
            this.icount = icount + 1;
            continue;
          }
          case Kind.JMP_REL:
            this.rip = this.relTarget(this.rip + insn.length + insn.rel);
            this.icount = icount + 1;
            continue;
          case Kind.MOV_RI4:
            lo[r0] = insn.immLo | 0;
            hi[r0] = 0;
            break;
          case Kind.MOV_RR4:
            lo[r0] = lo[insn.r1];
            hi[r0] = 0;
            break;
        }
      this.rip += insn.length;
      this.icount = icount + 1;
    }
  }

  private runGeneric(end: number): void {
    while (this.icount < end) {
      if (this.icount >= this.checkAt) {
        if (this.slowChecks()) continue;
      }
      this.insnStart = this.rip;
      const insn = this.fetchTranslated();
      this.execute(insn);
      this.icount++;
      if (this.state !== 'running' || this.pauseRequested) break;
    }
  }

  /**
   * Ends the current run() after the instruction in progress (or before the next one):
   * what a breakpoint on an event does from its listener. run() clears it on entry.
   */
  requestPause(): void {
    this.pauseRequested = true;
    // Drop the code-page memo: the fast loop then looks at pauseRequested before the next fetch,
    // whichever path (a fast store hitting a watch, an event listener) asked.
    this.codeEpoch = -1;
  }

  /**
   * Resume from a breakpoint stop: the breakpoint at the current rip is stepped over once (its
   * instruction runs) if it is the first instruction to retire from now on.
   */
  resumeFromBreakpoint(): void {
    this.resumeRip = this.rip;
    this.resumeIcount = this.icount;
  }

  /** Timer and pending interrupts. Returns true when an interrupt was delivered. */
  private slowChecks(): boolean {
    if (this.icount >= this.nextTimerAt) {
      this.timerPending = true;
      this.nextTimerAt = this.timerPeriod > 0 ? this.nextTimerAt + this.timerPeriod : Infinity;
    }
    if (this.timerPending && this.interruptsEnabled && this.icount >= this.interruptShadowUntil) {
      this.timerPending = false;
      this.recomputeCheckAt();
      if (this.bus.wants.interrupt) this.bus.emit({ kind: 'interrupt', vector: this.timerVector, source: 'timer', icount: this.icount, vcpu: this.index, rip: this.ripValue });
      this.interrupt(this.timerVector, undefined, false);
      return true;
    }
    this.recomputeCheckAt();
    return false;
  }

  /** HLT with interrupts on: time passes until the timer fires (within this slice's budget). */
  private wakeFromHalt(end: number): void {
    if (!this.interruptsEnabled || this.timerPeriod === 0) return;
    // Halted time retires no instructions, so it passes at once: the next tick is due now,
    // and the one after it a full period later (a tick already pending is not pushed back).
    this.state = 'running';
    if (!this.timerPending) {
      this.timerPending = true;
      this.nextTimerAt = this.icount + this.timerPeriod;
    }
    this.recomputeCheckAt();
    this.run(end - this.icount);
  }

  /** Stops the vCPU for good with a stated reason. */
  stop(reason: 'halted' | 'triple-fault' | 'shutdown' | 'error', message: string): void {
    this.state = 'stopped';
    this.stopReason = message;
    this.stopKind = reason;
    if (this.bus.wants.stop) this.bus.emit({ kind: 'stop', reason, message, icount: this.icount, vcpu: this.index, rip: this.ripValue });
  }

  // ---------------------------------------------------------------- faults and interrupts

  raise(vector: number, errorCode?: number): never {
    this.faultVector = vector;
    this.faultError = errorCode;
    throw FAULT;
  }

  /**
   * A VM exit for the instruction in progress. Returns true when the VMM emulated it
   * completely ('skip'); an 'inject' raises the exception in the guest instead.
   */
  private vmExit(req: ExitRequest): boolean {
    const a = this.vmx!.exit(this, req);
    switch (a.kind) {
      case 'continue':
        return false;
      case 'skip':
        return true;
      case 'inject':
        return this.raise(a.vector, a.errorCode);
      case 'stop':
        this.stop('error', a.message);
        return true;
    }
  }

  private raisePageFault(): never {
    const f = this.mmu.fault!;
    this.cr2 = this.canonical(f.linear);
    if (this.bus.wants['page-fault']) {
      const access = (f.errorCode & 0x10) !== 0 ? 'fetch' : (f.errorCode & 2) !== 0 ? 'write' : 'read';
      this.bus.emit({ kind: 'page-fault', gva: this.cr2, errorCode: f.errorCode, access, user: (f.errorCode & 4) !== 0, reason: f.reason, hidden: false, icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
    }
    return this.raise(Vector.PF, f.errorCode);
  }

  private deliverPending(): void {
    const v = this.faultVector;
    const err = this.faultError;
    this.faultVector = -1;
    // ENGINE_LIMIT, or the VMM stopped the VM mid-instruction (an MMU port's fatal exit): nothing to deliver.
    if (v === ENGINE_LIMIT || v === BREAKPOINT_STOP || this.state === 'stopped') return;
    this.interrupt(v, err, true);
  }

  /**
   * Delivers vector `v` through the IDT (64-bit gates). `exception` is true for CPU exceptions
   * (no DPL check) and false for external interrupts; software INT n is delivered by execInt.
   */
  interrupt(v: number, errorCode: number | undefined, exception: boolean, softwareCpl = -1): void {
    if (exception && this.bus.wants.exception) {
      this.bus.emit({ kind: 'exception', vector: v, name: vectorName(v), errorCode, icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.rip)) });
    }
    if (exception) this.lastException = { vector: v, errorCode, rip: this.rip };
    // The exception bitmap. #PF exits are the MMU port's: it sees them first (shadow paging).
    if (exception && this.vmx !== null && v !== Vector.PF && ((this.vmx.controls.exceptionBitmap >>> v) & 1) === 1) {
      const withCode = errorCode !== undefined && hasErrorCode(v);
      const type = v === Vector.BP || v === Vector.OF ? InterruptionType.SOFTWARE_EXCEPTION : InterruptionType.HARDWARE_EXCEPTION;
      const a = this.vmx.exit(this, { reason: ExitReason.EXCEPTION_NMI, qualification: 0n, interruptionInfo: interruptionInfo(v, type, withCode), errorCode: withCode ? errorCode : undefined });
      if (a.kind === 'stop') {
        this.stop('error', a.message);
        return;
      }
    }
    this.faultChain.push(vectorName(v).split(' ')[0]);
    try {
      this.deliverThroughIdt(v, errorCode, softwareCpl);
      this.faultChain.length = 0;
    } catch (e) {
      if (e !== FAULT) throw e;
      if (this.state === 'stopped') return; // the VMM ended the VM during delivery
      const second = this.faultVector;
      const secondErr = this.faultError;
      this.faultVector = -1;
      if (v === Vector.DF) {
        this.faultChain.push(vectorName(second).split(' ')[0]);
        const chain = this.faultChain.join(' → ');
        this.faultChain.length = 0;
        // A triple fault always exits in VMX non-root operation (reason 2); the VM is then ended.
        if (this.vmx !== null) this.vmx.exit(this, { reason: ExitReason.TRIPLE_FAULT, qualification: 0n });
        this.stop('triple-fault', `triple fault at rip ${hex(this.rip)}: ${chain} (no usable IDT entry or stack for the handlers)`);
        return;
      }
      if (makesDoubleFault(v, second)) {
        this.interrupt(Vector.DF, 0, true);
      } else {
        this.interrupt(second, secondErr, true);
      }
    }
  }

  private deliverThroughIdt(v: number, errorCode: number | undefined, softwareCpl: number): void {
    const ext = softwareCpl < 0 ? 1 : 0;
    const selErr = v * 8 + 2 + ext;
    if (v * 16 + 15 > this.idtLimit) this.raise(Vector.GP, selErr);
    const gate = this.idtBase + BigInt(v * 16);
    const g0 = this.readImplicit(gate, 4);
    const g1 = this.readImplicit(gate + 4n, 4);
    const g2 = this.readImplicit(gate + 8n, 4);
    const typeAttr = (g1 >>> 8) & 0xff;
    const present = (typeAttr & 0x80) !== 0;
    const dpl = (typeAttr >> 5) & 3;
    const type = typeAttr & 0xf;
    if (!present || (type !== 0xe && type !== 0xf)) this.raise(Vector.GP, selErr);
    if (softwareCpl >= 0 && dpl < softwareCpl) this.raise(Vector.GP, selErr);
    const offLo = ((g0 & 0xffff) | (g1 & 0xffff0000)) >>> 0;
    const target = (g2 | 0) * TWO32 + offLo;
    const oldRflags = this.rflags;
    const oldCpl = this.cpl;
    // Stack switch on CPL 3 → 0 (RSP0 MSR stands in for TSS.RSP0), then align to 16 as in 64-bit mode.
    let spLo = this.lo[4];
    let spHi = this.hi[4];
    const oldSpLo = spLo;
    const oldSpHi = spHi;
    if (oldCpl !== 0) {
      spLo = this.rsp0Lo;
      spHi = this.rsp0Hi;
    }
    spLo = spLo & ~0xf;
    const frame: [number, number][] = [
      [oldCpl === 0 ? 0x10 : 0x23, 0], // SS
      [oldSpLo, oldSpHi],
      [oldRflags, 0],
      [oldCpl === 0 ? 0x08 : 0x1b, 0], // CS
      [this.rip >>> 0, Math.floor(this.rip / TWO32) | 0],
    ];
    if (errorCode !== undefined && hasErrorCode(v)) frame.push([errorCode, 0]);
    // Translate every slot before writing any, so a fault mid-push leaves memory untouched.
    const pas: number[] = [];
    let curLo = spLo >>> 0;
    let curHi = spHi;
    for (let i = 0; i < frame.length; i++) {
      if (curLo < 8) curHi = (curHi - 1) | 0;
      curLo = (curLo - 8) >>> 0;
      const lin = this.linearOf(curLo, curHi, Vector.SS);
      pas.push(this.xlate(lin, Access.WRITE, false, true));
    }
    for (let i = 0; i < frame.length; i++) this.writePhys(pas[i], 8, frame[i][0], frame[i][1]);
    this.lo[4] = curLo;
    this.hi[4] = curHi;
    this.cpl = 0;
    let of = this.otherFlags & ~(Rflags.TF | (1 << 14) | (1 << 16));
    if (type === 0xe) of &= ~Rflags.IF;
    this.otherFlags = of;
    this.rip = this.longMode ? target : target >>> 0;
    this.recomputeCheckAt();
  }

  /** Implicit supervisor read (IDT): faults like a supervisor access regardless of CPL and AC. */
  private readImplicit(addr: bigint, size: 4): number {
    const lin = this.linearFromBig(addr);
    const pa = this.xlate(lin, Access.READ, false, false);
    this.readPhys(pa, size);
    return this.mLo;
  }

  // ---------------------------------------------------------------- addresses

  private syncMode(): void {
    this.longMode = (this.efer & Efer.LMA) !== 0;
    this.laBits = this.longMode ? ((this.cr4 & Cr4.LA57) !== 0 ? 57 : 48) : 32;
    this.laHiMask = this.laBits === 57 ? 0x1ffffff : this.laBits === 48 ? 0xffff : 0;
    this.laSize = 2 ** this.laBits;
    this.laHalf = this.longMode ? 2 ** (this.laBits - 1) : TWO32;
    this.mmu.setControl(this.cr0, this.cr3, this.cr4, this.efer);
  }

  /** Canonical 64-bit value of a linear address (for CR2 and events). */
  canonical(linear: number): bigint {
    if (!this.longMode) return BigInt(linear >>> 0);
    return BigInt.asUintN(64, BigInt.asIntN(this.laBits, BigInt(linear)));
  }

  /** 64-bit halves → linear address for the MMU; non-canonical → #GP(0) or #SS(0). */
  linearOf(lo: number, hi: number, faultVector: number = Vector.GP): number {
    if (!this.longMode) return lo >>> 0;
    if (hi === 0) return lo >>> 0;
    const top = hi >> (this.laBits - 33);
    if (top !== 0 && top !== -1) this.raise(faultVector, 0);
    const lin = (hi & this.laHiMask) * TWO32 + (lo >>> 0);
    if (lin >= EXACT_LIMIT) this.engineLimit(`5-level linear address 0x${toBig(lo, hi).toString(16)} is beyond what this simulator represents exactly (linear addresses below 2^53; see docs/machine.md)`);
    return lin;
  }

  /**
   * Ends the VM because the simulator cannot model what the guest did exactly (rather than
   * model it wrongly), and aborts the instruction.
   */
  private engineLimit(message: string): never {
    this.stop('error', message);
    this.faultVector = ENGINE_LIMIT;
    throw FAULT;
  }

  linearFromBig(v: bigint): number {
    const u = BigInt.asUintN(64, v);
    return this.linearOf(Number(u & 0xffffffffn), Number(u >> 32n) | 0);
  }

  private ripLinear(): number {
    let rip = this.rip;
    if (!this.longMode) {
      // EIP wraps at 4 GiB; sequential execution adds at most one instruction length past it.
      if (rip >= TWO32) this.rip = rip = rip - TWO32;
      return rip;
    }
    if (rip >= 0) {
      if (rip >= this.laHalf) this.raise(Vector.GP, 0);
      return rip;
    }
    if (rip < -this.laHalf) this.raise(Vector.GP, 0);
    const lin = rip + this.laSize;
    if (lin >= EXACT_LIMIT) this.engineLimit(`5-level rip ${hex(rip)} is beyond what this simulator represents exactly (see docs/machine.md)`);
    return lin;
  }

  /** Effective address of the memory operand → linear address. */
  private ea(insn: Insn): number {
    const b0 = insn.base;
    if (insn.index < 0 && b0 >= 0 && this.hi[b0] === 0) {
      // [base + disp] with the base's upper half zero and no carry or borrow out of the low
      // half: eaFull's 64-bit sum has hi = 0, and linearOf(lo, 0) is lo in every mode.
      const s = (this.lo[b0] >>> 0) + insn.disp;
      if (s >= 0 && s < TWO32) return s;
    }
    return this.eaFull(insn);
  }

  private eaFull(insn: Insn): number {
    let lo = insn.disp;
    let hi = insn.disp < 0 ? -1 : 0;
    const b = insn.base;
    if (b >= 0) {
      const s = (this.lo[b] >>> 0) + (lo >>> 0);
      hi = (hi + this.hi[b] + (s >= TWO32 ? 1 : 0)) | 0;
      lo = s;
    }
    const x = insn.index;
    if (x >= 0) {
      const sc = insn.scale;
      let ilo = this.lo[x] >>> 0;
      let ihi = this.hi[x];
      if (sc !== 1) {
        const sh = sc === 2 ? 1 : sc === 4 ? 2 : 3;
        ihi = (ihi << sh) | (ilo >>> (32 - sh));
        ilo = (ilo << sh) >>> 0;
      }
      const s = (lo >>> 0) + ilo;
      hi = (hi + ihi + (s >= TWO32 ? 1 : 0)) | 0;
      lo = s;
    }
    return this.linearOf(lo >>> 0, hi, b === 4 || b === 5 ? Vector.SS : Vector.GP);
  }

  /** Translates or raises #PF. */
  private xlate(lin: number, access: AccessCode, user: boolean, implicit = false): number {
    const pa = this.mmu.translate(lin, access, user, implicit ? false : (this.otherFlags & Rflags.AC) !== 0);
    if (pa < 0) this.raisePageFault();
    return pa;
  }

  // ---------------------------------------------------------------- physical access

  private frame(pa: number, forWrite: boolean): Frame | undefined {
    const fn = pa < TWO32 ? pa >>> 12 : Math.floor(pa / PAGE_SIZE);
    const slot = fn & 63;
    if (this.frameCacheNum[slot] === fn) return this.frameCache[slot];
    const f = forWrite ? this.mem.frameForWrite(fn) : this.mem.peekFrame(fn);
    if (f) {
      this.frameCacheNum[slot] = fn;
      this.frameCache[slot] = f;
    }
    return f;
  }

  /** Reads size bytes at a physical address into mLo/mHi (no page crossing). */
  private readPhys(pa: number, size: number): void {
    if (pa + size > this.mem.size) {
      // At or past the end of memory: each byte on its own (backed ones read, the rest all ones).
      let lo = 0;
      let hi = 0;
      for (let i = size - 1; i >= 0; i--) {
        const byte = this.mem.read8(pa + i);
        if (i >= 4) hi = (hi << 8) | byte;
        else lo = (lo << 8) | byte;
      }
      this.mLo = lo | 0;
      this.mHi = hi | 0;
      return;
    }
    const f = this.frame(pa, false);
    if (f === undefined) {
      this.mLo = 0;
      this.mHi = 0;
      return;
    }
    const off = pa & 0xfff;
    const v = f.view;
    if (size === 8) {
      this.mLo = v.getInt32(off, true);
      this.mHi = v.getInt32(off + 4, true);
    } else {
      this.mLo = size === 4 ? v.getInt32(off, true) : size === 2 ? v.getUint16(off, true) : f.data[off];
      this.mHi = 0;
    }
  }

  private writePhys(pa: number, size: number, lo: number, hi: number): void {
    if (pa + size > this.mem.size) return;
    const f = this.frame(pa, true);
    if (f === undefined) return;
    const off = pa & 0xfff;
    if (f.decoded !== null) invalidateDecoded(f, off, size);
    const v = f.view;
    if (f.watch !== null) {
      this.writeWatched(f, off, size, lo, hi);
      return;
    }
    if (size === 8) {
      v.setInt32(off, lo, true);
      v.setInt32(off + 4, hi, true);
    } else if (size === 4) v.setInt32(off, lo, true);
    else if (size === 2) v.setUint16(off, lo & 0xffff, true);
    else f.data[off] = lo & 0xff;
  }

  private get userAccess(): boolean {
    return this.cpl === 3;
  }

  /** load(lin, 8) through the data-page memo when it stands (see the memo fields). */
  private load64(lin: number): void {
    const d = lin - this.rdLin;
    const rp = this.replay;
    if (d >= 0 && d <= PAGE_SIZE - 8 && rp !== null && this.rdEpoch === rp.epoch && this.rdKey === this.accessKey()) {
      rp.replayHit(Access.READ, this.rdSlot);
      if ((d & 3) === 0) {
        const w = this.rdWords;
        this.mLo = w[d >> 2];
        this.mHi = w[(d >> 2) + 1];
      } else this.loadUnaligned(d);
      return;
    }
    this.load(lin, 8);
  }

  /** store(lin, 8, lo, hi) through the data-page memo when it stands. */
  private store64(lin: number, lo: number, hi: number): void {
    const d = lin - this.wrLin;
    const rp = this.replay;
    if (d >= 0 && d <= PAGE_SIZE - 8 && rp !== null && this.wrEpoch === rp.epoch && this.wrKey === this.accessKey()) {
      rp.replayHit(Access.WRITE, this.wrSlot);
      const f = this.wrFrame;
      if (f.decoded !== null) invalidateDecoded(f, d, 8);
      if (f.watch !== null) {
        this.writeWatched(f, d, 8, lo, hi);
        return;
      }
      if ((d & 3) === 0) {
        const w = this.wrWords;
        w[d >> 2] = lo;
        w[(d >> 2) + 1] = hi;
      } else this.storeUnaligned(d, lo, hi);
      return;
    }
    this.store(lin, 8, lo, hi);
  }

  /** A store into a frame with data breakpoints: done, then the watcher is told (x86 data breakpoints trap after the write). */
  private writeWatched(f: Frame, off: number, size: number, lo: number, hi: number): void {
    const v = f.view;
    if (size === 8) {
      v.setInt32(off, lo, true);
      v.setInt32(off + 4, hi, true);
    } else if (size === 4) v.setInt32(off, lo, true);
    else if (size === 2) v.setUint16(off, lo & 0xffff, true);
    else f.data[off] = lo & 0xff;
    checkWatch(f, off, size);
  }

  private loadUnaligned(d: number): void {
    this.mLo = this.rdView.getInt32(d, true);
    this.mHi = this.rdView.getInt32(d + 4, true);
  }

  private storeUnaligned(d: number, lo: number, hi: number): void {
    this.wrView.setInt32(d, lo, true);
    this.wrView.setInt32(d + 4, hi, true);
  }

  /**
   * After a translated access of `lin` to `pa` within one page: memoise the page for load64 /
   * store64 when the TLB would hit the same slot again and the frame exists inside memory.
   */
  private rememberData(access: AccessCode, lin: number, pa: number): void {
    const rp = this.replay;
    if (rp === null || !LITTLE_ENDIAN) return;
    const key = this.accessKey();
    const page = pa - (pa & 0xfff);
    const f = page + PAGE_SIZE <= this.mem.size ? this.frame(pa, false) : undefined;
    const slot = f === undefined ? -1 : rp.hitSlot(lin, access, (key & 2) !== 0, (key & 1) !== 0);
    if (f === undefined || slot < 0) {
      // -2 (paging off) is left to the generic path too: nothing to replay, nothing to gain.
      if (access === Access.READ) this.rdEpoch = -1;
      else this.wrEpoch = -1;
      return;
    }
    const linPage = lin - (lin & 0xfff);
    if (access === Access.READ) {
      this.rdLin = linPage;
      this.rdEpoch = rp.epoch;
      this.rdSlot = slot;
      this.rdKey = key;
      this.rdWords = new Int32Array(f.data.buffer, f.data.byteOffset, PAGE_SIZE >> 2);
      this.rdView = f.view;
    } else {
      this.wrLin = linPage;
      this.wrEpoch = rp.epoch;
      this.wrSlot = slot;
      this.wrKey = key;
      this.wrWords = new Int32Array(f.data.buffer, f.data.byteOffset, PAGE_SIZE >> 2);
      this.wrView = f.view;
      this.wrFrame = f;
    }
  }

  /** Loads size bytes at a linear address into mLo/mHi. */
  load(lin: number, size: number): void {
    if ((lin & 0xfff) + size <= PAGE_SIZE) {
      const pa = this.xlate(lin, Access.READ, this.cpl === 3);
      this.readPhys(pa, size);
      if (size === 8 && this.replay !== null) this.rememberData(Access.READ, lin, pa);
      return;
    }
    const pa1 = this.xlate(lin, Access.READ, this.userAccess);
    const next = this.nextPage(lin);
    const pa2 = this.xlate(next, Access.READ, this.userAccess);
    const first = next - lin;
    const bytes = this.fetchBuf;
    for (let i = 0; i < size; i++) bytes[i] = this.mem.read8(i < first ? pa1 + i : pa2 + (i - first));
    this.mLo = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
    this.mHi = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
    if (size < 8) this.mHi = 0;
    if (size < 4) this.mLo &= size === 2 ? 0xffff : 0xff;
  }

  /** Translates for a write (both pages when crossing) and returns pa, or -2 for a crossing store. */
  private storeAddr(lin: number, size: number): number {
    if ((lin & 0xfff) + size <= PAGE_SIZE) return this.xlate(lin, Access.WRITE, this.cpl === 3);
    this.xlate(lin, Access.WRITE, this.userAccess);
    this.xlate(this.nextPage(lin), Access.WRITE, this.userAccess);
    return -2;
  }

  private storeAt(pa: number, lin: number, size: number, lo: number, hi: number): void {
    if (pa !== -2) {
      this.writePhys(pa, size, lo, hi);
      return;
    }
    const pa1 = this.xlate(lin, Access.WRITE, this.userAccess);
    const next = this.nextPage(lin);
    const pa2 = this.xlate(next, Access.WRITE, this.userAccess);
    const first = next - lin;
    for (let i = 0; i < size; i++) {
      const byte = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      const pa = i < first ? pa1 + i : pa2 + (i - first);
      this.writePhys(pa, 1, byte, 0);
    }
  }

  store(lin: number, size: number, lo: number, hi: number): void {
    const pa = this.storeAddr(lin, size);
    this.storeAt(pa, lin, size, lo, hi);
    if (size === 8 && pa >= 0 && this.replay !== null) this.rememberData(Access.WRITE, lin, pa);
  }

  /** The page after lin's; in long mode, crossing from the lower canonical half is #GP(0). */
  private nextPage(lin: number): number {
    const n = lin - (lin % PAGE_SIZE) + PAGE_SIZE;
    if (!this.longMode) return n % TWO32;
    if (n === this.laHalf) this.raise(Vector.GP, 0);
    return n % this.laSize;
  }

  // ---------------------------------------------------------------- fetch

  /** (CPL 3, AC) as the MMU's access key: a memoised translation is only valid for the same key. */
  private accessKey(): number {
    return (this.cpl === 3 ? 2 : 0) | ((this.otherFlags & Rflags.AC) !== 0 ? 1 : 0);
  }

  /** The fetch itself: translate rip, then the frame's predecoded instruction or a fresh decode. */
  private fetchTranslated(): ExecInsn {
    const lin = this.ripLinear();
    const pa = this.xlate(lin, Access.FETCH, this.cpl === 3);
    const f = pa + 2 <= this.mem.size ? this.frame(pa, false) : undefined;
    if (f === undefined) return this.raise(Vector.UD);
    const off = pa & 0xfff;
    if (f.breakpoints !== null && f.breakpoints.has(off)) return this.fetchBreakpoint(f, off, pa, lin);
    let cache = f.decoded;
    if (cache === null) cache = f.decoded = new Array<Insn | undefined>(PAGE_SIZE);
    const hit = cache[off];
    if (hit !== undefined) {
      this.rememberCodePage(lin, f, cache);
      return hit as ExecInsn;
    }
    const d = decode(f.data, off, PAGE_SIZE);
    if (d === 'invalid') return this.raise(Vector.UD);
    if (d !== 'truncated') {
      const x = specialise(d);
      cache[off] = x;
      this.rememberCodePage(lin, f, cache);
      return x;
    }
    // The instruction crosses into the next page: fetch through both translations, no caching.
    const next = this.nextPage(lin);
    const pa2 = this.xlate(next, Access.FETCH, this.cpl === 3);
    const buf = this.fetchBuf;
    const first = PAGE_SIZE - off;
    for (let i = 0; i < MAX_INSN_LENGTH; i++) buf[i] = this.mem.read8(i < first ? pa + i : pa2 + (i - first));
    const d2 = decode(buf, 0, MAX_INSN_LENGTH);
    if (typeof d2 === 'string') return this.raise(Vector.UD);
    return specialise(d2);
  }

  /**
   * A fetch at a breakpoint: the pseudo-instruction (never cached, never memoised, so clearing
   * the breakpoint needs no invalidation) wrapping whatever decodes there.
   */
  private fetchBreakpoint(f: Frame, off: number, pa: number, lin: number): ExecInsn {
    this.codeEpoch = -1;
    let orig: Insn | null = null;
    const d = decode(f.data, off, PAGE_SIZE);
    if (typeof d !== 'string') orig = specialise(d);
    else if (d === 'truncated') {
      const pa2 = this.xlate(this.nextPage(lin), Access.FETCH, this.cpl === 3);
      const buf = this.fetchBuf;
      const first = PAGE_SIZE - off;
      for (let i = 0; i < MAX_INSN_LENGTH; i++) buf[i] = this.mem.read8(i < first ? pa + i : pa2 + (i - first));
      const d2 = decode(buf, 0, MAX_INSN_LENGTH);
      if (typeof d2 !== 'string') orig = specialise(d2);
    }
    const b = breakpointInsn(orig);
    this.breakpointPa = pa;
    return b;
  }

  private breakpointPa = -1;

  /** Sets the code-page memo after a translated fetch of `lin` (see the fields). */
  private rememberCodePage(lin: number, f: Frame, cache: (Insn | undefined)[]): void {
    const rp = this.replay;
    if (rp === null) return;
    const key = this.accessKey();
    const slot = rp.hitSlot(lin, Access.FETCH, (key & 2) !== 0, (key & 1) !== 0);
    if (slot === -1) {
      // The next fetch here would walk again (e.g. a large page the TLB cannot hold): no memo.
      this.codeEpoch = -1;
      return;
    }
    this.codeRip = this.rip - (lin & 0xfff);
    this.codeFrame = f;
    this.codeDecoded = cache;
    this.codeEpoch = rp.epoch;
    this.codeSlot = slot;
    this.codeKey = key;
  }

  // ---------------------------------------------------------------- operands

  private regRead(reg: number, size: number): void {
    if (size === 8) {
      this.mLo = this.lo[reg];
      this.mHi = this.hi[reg];
    } else {
      this.mLo = maskLo(this.lo[reg], size);
      this.mHi = 0;
    }
  }

  private regWrite(reg: number, size: number, lo: number, hi: number): void {
    if (size === 8) {
      this.lo[reg] = lo;
      this.hi[reg] = hi;
    } else if (size === 4) {
      this.lo[reg] = lo;
      this.hi[reg] = 0;
    } else if (size === 2) {
      this.lo[reg] = (this.lo[reg] & ~0xffff) | (lo & 0xffff);
    } else {
      this.lo[reg] = (this.lo[reg] & ~0xff) | (lo & 0xff);
    }
  }

  private push64(lo: number, hi: number): void {
    let spLo = this.lo[4] >>> 0;
    let spHi = this.hi[4];
    if (spLo < 8) spHi = (spHi - 1) | 0;
    spLo = (spLo - 8) >>> 0;
    const lin = this.linearOf(spLo, spHi, Vector.SS);
    this.store(lin, 8, lo, hi);
    this.lo[4] = spLo;
    this.hi[4] = spHi;
  }

  /** Pops into mLo/mHi. */
  private pop64(): void {
    const lin = this.linearOf(this.lo[4] >>> 0, this.hi[4], Vector.SS);
    this.load(lin, 8);
    const s = (this.lo[4] >>> 0) + 8;
    this.hi[4] = (this.hi[4] + (s >= TWO32 ? 1 : 0)) | 0;
    this.lo[4] = s;
  }

  private ripFromHalves(lo: number, hi: number): number {
    if (!this.longMode) return lo >>> 0;
    return (hi | 0) * TWO32 + (lo >>> 0);
  }

  private jumpTo(lo: number, hi: number): void {
    this.checkTarget(lo, hi);
    this.rip = this.ripFromHalves(lo, hi);
  }

  /** A near branch to a non-canonical target faults on the branch itself (#GP(0)), before any change. */
  private checkTarget(lo: number, hi: number): void {
    if (!this.longMode) return;
    const top = hi >> (this.laBits - 33);
    if (top !== 0 && top !== -1) this.raise(Vector.GP, 0);
  }

  /** rip-relative target (a signed number) checked the same way. */
  private relTarget(v: number): number {
    if (!this.longMode) return v >>> 0;
    if (v >= this.laHalf || v < -this.laHalf) this.raise(Vector.GP, 0);
    return v;
  }

  // ---------------------------------------------------------------- execute

  private execute(insn: Insn): void {
    if (insn.op === BREAKPOINT_OP) return this.executeBreakpoint(insn);
    const next = this.rip + insn.length;
    const size = insn.size;
    const form = insn.form;
    switch (insn.op) {
      case Op.MOV:
        this.rip = next;
        this.execMov(insn);
        return;
      case Op.ADD:
      case Op.OR:
      case Op.ADC:
      case Op.SBB:
      case Op.AND:
      case Op.SUB:
      case Op.XOR:
      case Op.CMP:
      case Op.TEST:
        this.execAlu(insn);
        this.rip = next;
        return;
      case Op.INC:
      case Op.DEC:
      case Op.NEG:
      case Op.NOT:
        this.execUnary(insn);
        this.rip = next;
        return;
      case Op.JMP:
        if (form === Form.REL) this.rip = this.relTarget(next + insn.rel);
        else {
          this.readRM(insn);
          this.jumpTo(this.mLo, this.mHi);
        }
        return;
      case Op.CALL: {
        let tLo: number;
        let tHi: number;
        if (form === Form.REL) {
          const t = this.relTarget(next + insn.rel);
          tLo = t >>> 0;
          tHi = Math.floor(t / TWO32) | 0;
        } else {
          this.readRM(insn);
          tLo = this.mLo;
          tHi = this.mHi;
        }
        // The target is checked before the return address is pushed: a faulting call changes nothing.
        this.checkTarget(tLo, tHi);
        const ret = this.wrapRip(next);
        this.push64(ret >>> 0, Math.floor(ret / TWO32) | 0);
        this.rip = this.ripFromHalves(tLo, tHi);
        return;
      }
      case Op.RET: {
        const spLo = this.lo[4];
        const spHi = this.hi[4];
        this.pop64();
        try {
          this.jumpTo(this.mLo, this.mHi);
        } catch (e) {
          // A non-canonical return address faults on the ret, with rsp as it was.
          this.lo[4] = spLo;
          this.hi[4] = spHi;
          throw e;
        }
        return;
      }
      case Op.PUSH:
        if (form === Form.R) this.push64(this.lo[insn.r0], this.hi[insn.r0]);
        else if (form === Form.I) this.push64(insn.immLo, insn.immHi);
        else {
          this.load(this.ea(insn), 8);
          this.push64(this.mLo, this.mHi);
        }
        this.rip = next;
        return;
      case Op.POP:
        if (form === Form.R) {
          this.pop64();
          this.lo[insn.r0] = this.mLo;
          this.hi[insn.r0] = this.mHi;
        } else {
          const saveLo = this.lo[4];
          const saveHi = this.hi[4];
          this.pop64();
          const vLo = this.mLo;
          const vHi = this.mHi;
          try {
            this.store(this.ea(insn), 8, vLo, vHi);
          } catch (e) {
            this.lo[4] = saveLo;
            this.hi[4] = saveHi;
            throw e;
          }
        }
        this.rip = next;
        return;
      case Op.LEA: {
        // The effective address itself, truncated to the operand size; no canonical check.
        let lo = insn.disp;
        let hi = insn.disp < 0 ? -1 : 0;
        if (insn.base >= 0) {
          const s = (this.lo[insn.base] >>> 0) + (lo >>> 0);
          hi = (hi + this.hi[insn.base] + (s >= TWO32 ? 1 : 0)) | 0;
          lo = s;
        }
        if (insn.index >= 0) {
          const prod = toBig(this.lo[insn.index], this.hi[insn.index]) * BigInt(insn.scale);
          fromBig(this.r, toBig(lo, hi) + prod);
          lo = this.r.lo;
          hi = this.r.hi;
        }
        this.regWrite(insn.r0, size, lo | 0, hi);
        this.rip = next;
        return;
      }
      case Op.MOVZX:
      case Op.MOVSX: {
        if (form === Form.RR) this.regRead(insn.r1, insn.srcSize);
        else this.load(this.ea(insn), insn.srcSize);
        let lo = this.mLo;
        let hi = 0;
        if (insn.op === Op.MOVSX) {
          fromBig(this.r, toSignedBig(lo, this.mHi, insn.srcSize));
          lo = this.r.lo;
          hi = this.r.hi;
        }
        this.regWrite(insn.r0, size, lo, size === 8 ? hi : 0);
        this.rip = next;
        return;
      }
      case Op.XCHG: {
        if (form === Form.RR) {
          this.regRead(insn.r0, size);
          const aLo = this.mLo;
          const aHi = this.mHi;
          this.regRead(insn.r1, size);
          this.regWrite(insn.r0, size, this.mLo, this.mHi);
          this.regWrite(insn.r1, size, aLo, aHi);
        } else {
          const lin = this.ea(insn);
          const pa = this.storeAddr(lin, size);
          this.load(lin, size);
          const mLo = this.mLo;
          const mHi = this.mHi;
          this.regRead(insn.r0, size);
          this.storeAt(pa, lin, size, this.mLo, this.mHi);
          this.regWrite(insn.r0, size, mLo, mHi);
        }
        this.rip = next;
        return;
      }
      case Op.SHL:
      case Op.SHR:
      case Op.SAR:
        this.execShift(insn);
        this.rip = next;
        return;
      case Op.IMUL: {
        if (form === Form.RR) this.regRead(insn.r1, size);
        else this.load(this.ea(insn), size);
        const a = toSignedBig(this.lo[insn.r0], this.hi[insn.r0], size);
        const b = toSignedBig(this.mLo, this.mHi, size);
        const full = a * b;
        const trunc = BigInt.asIntN(size * 8, full);
        this.flags.cf = this.flags.of = trunc !== full ? 1 : 0;
        fromBig(this.r, trunc);
        this.regWrite(insn.r0, size, this.r.lo, this.r.hi);
        this.flags.zf = trunc === 0n ? 1 : 0;
        this.flags.sf = trunc < 0n ? 1 : 0;
        this.flags.pfByte = this.r.lo & 0xff;
        this.rip = next;
        return;
      }
      case Op.MUL:
      case Op.DIV:
      case Op.IDIV:
        this.execMulDiv(insn);
        this.rip = next;
        return;
      case Op.CQO:
        this.lo[2] = this.hi[0] < 0 ? -1 : 0;
        this.hi[2] = this.hi[0] < 0 ? -1 : 0;
        this.rip = next;
        return;
      case Op.NOP:
        this.rip = next;
        return;
      case Op.PUSHFQ:
        // VM and RF are cleared in the pushed image, as on x86.
        this.push64(this.rflags & ~0x30000, 0);
        this.rip = next;
        return;
      case Op.POPFQ: {
        this.pop64();
        let v = this.mLo >>> 0;
        const keep = this.cpl === 0 ? 0 : Rflags.IF | 0x3000;
        v = (v & ~keep) | (this.otherFlags & keep);
        v &= ~0x30000; // VM, RF
        const wasIf = this.interruptsEnabled;
        this.rflags = v;
        this.rip = next;
        if (!wasIf && this.interruptsEnabled) this.checkAt = this.icount + 1;
        return;
      }
      case Op.INT3:
        this.rip = next;
        this.softwareInterrupt(Vector.BP);
        return;
      case Op.INT:
        this.rip = next;
        if (this.bus.wants.interrupt) this.bus.emit({ kind: 'interrupt', vector: insn.immLo & 0xff, source: 'software', icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        this.softwareInterrupt(insn.immLo & 0xff);
        return;
      case Op.IRETQ:
        this.execIret();
        return;
      case Op.UD2:
        return this.raise(Vector.UD);
      case Op.CPUID:
        // CPUID always exits under VMX: the VMM answers it (cpuidNative plus its own leaves).
        if (this.vmx === null || !this.vmExit({ reason: ExitReason.CPUID, qualification: 0n, instructionLength: insn.length })) this.execCpuid();
        this.rip = next;
        return;
      case Op.VMCALL:
        // Outside VMX non-root (native mode) VMCALL is #UD, as on hardware.
        if (this.vmx === null) return this.raise(Vector.UD);
        this.vmExit({ reason: ExitReason.VMCALL, qualification: 0n, instructionLength: insn.length });
        this.rip = next;
        return;
      default:
        if (insn.op >= Op.JCC && insn.op < Op.JCC + 16) {
          this.rip = this.condition(insn.op - Op.JCC) ? this.relTarget(next + insn.rel) : next;
          return;
        }
        this.execSystem(insn, next);
    }
  }


  private executeBreakpoint(b: Insn): void {
    if (this.insnStart === this.resumeRip && this.icount === this.resumeIcount) {
      this.resumeRip = NaN;
      if (b.orig === null) this.raise(Vector.UD);
      this.execute(b.orig);
      return;
    }
    // Stop before the instruction: it does not retire, rip stays on it.
    this.breakpointHit = this.breakpointPa;
    this.requestPause();
    this.faultVector = BREAKPOINT_STOP;
    throw FAULT;
  }

  private wrapRip(v: number): number {
    return this.longMode ? v : v >>> 0;
  }

  private softwareInterrupt(vector: number): void {
    // INT n checks the gate DPL against CPL; the return rip is the next instruction.
    this.deliverThroughIdt(vector, undefined, this.cpl);
  }

  condition(cc: number): boolean {
    const f = this.flags;
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = f.of === 1; break;
      case 1: r = f.cf === 1; break;
      case 2: r = f.zf === 1; break;
      case 3: r = f.cf === 1 || f.zf === 1; break;
      case 4: r = f.sf === 1; break;
      case 5: r = f.pf === 1; break;
      case 6: r = f.sf !== f.of; break;
      default: r = f.zf === 1 || f.sf !== f.of; break;
    }
    return (cc & 1) === 0 ? r : !r;
  }

  /** Reads the R or M operand of single-operand forms into mLo/mHi. */
  private readRM(insn: Insn): void {
    if (insn.form === Form.R) this.regRead(insn.r0, insn.size);
    else this.load(this.ea(insn), insn.size);
  }

  private execMov(insn: Insn): void {
    const size = insn.size;
    switch (insn.form) {
      case Form.RR:
        this.regRead(insn.r1, size);
        this.regWrite(insn.r0, size, this.mLo, this.mHi);
        return;
      case Form.RI:
      case Form.RI64:
        this.regWrite(insn.r0, size, insn.immLo | 0, insn.immHi | 0);
        return;
      case Form.RM:
        this.load(this.ea(insn), size);
        this.regWrite(insn.r0, size, this.mLo, this.mHi);
        return;
      case Form.MR:
        this.store(this.ea(insn), size, this.lo[insn.r0], this.hi[insn.r0]);
        return;
      case Form.MI:
        this.store(this.ea(insn), size, insn.immLo | 0, insn.immHi | 0);
        return;
      case Form.CR:
        this.requireCpl0();
        if (this.vmx !== null && this.crWriteExits(insn.r0, this.lo[insn.r1]) && this.vmExit({ reason: ExitReason.CR_ACCESS, qualification: BigInt(crAccessQualification(insn.r0, CrAccessType.MOV_TO_CR, insn.r1)), instructionLength: insn.length })) return;
        this.writeCr(insn.r0, this.lo[insn.r1], this.hi[insn.r1]);
        return;
      case Form.RC: {
        this.requireCpl0();
        if (this.vmx !== null && insn.r0 === 3 && this.vmx.controls.cr3StoreExiting && this.vmExit({ reason: ExitReason.CR_ACCESS, qualification: BigInt(crAccessQualification(3, CrAccessType.MOV_FROM_CR, insn.r1)), instructionLength: insn.length })) return;
        const v = this.readCr(insn.r0);
        fromBig(this.r, v);
        this.lo[insn.r1] = this.r.lo;
        this.hi[insn.r1] = this.r.hi;
        return;
      }
    }
  }

  private execAlu(insn: Insn): void {
    const size = insn.size;
    const form = insn.form;
    let aLo: number;
    let aHi: number;
    let bLo: number;
    let bHi: number;
    let lin = 0;
    let pa = 0;
    const writes = insn.op !== Op.CMP && insn.op !== Op.TEST;
    if (form === Form.MR || form === Form.MI) {
      lin = this.ea(insn);
      // Read-modify-write: translate for write first, as x86 reports W=1 for these faults.
      if (writes) pa = this.storeAddr(lin, size);
      this.load(lin, size);
      aLo = this.mLo;
      aHi = this.mHi;
      if (form === Form.MR) {
        this.regRead(insn.r0, size);
        bLo = this.mLo;
        bHi = this.mHi;
      } else {
        bLo = insn.immLo;
        bHi = insn.immHi;
      }
    } else {
      if (size === 8) {
        aLo = this.lo[insn.r0];
        aHi = this.hi[insn.r0];
      } else {
        aLo = maskLo(this.lo[insn.r0], size);
        aHi = 0;
      }
      if (form === Form.RR) {
        this.regRead(insn.r1, size);
        bLo = this.mLo;
        bHi = this.mHi;
      } else if (form === Form.RI) {
        bLo = insn.immLo;
        bHi = insn.immHi;
      } else {
        this.load(this.ea(insn), size);
        bLo = this.mLo;
        bHi = this.mHi;
      }
    }
    const f = this.flags;
    const r = this.r;
    switch (insn.op) {
      case Op.ADD: addSub(f, r, aLo, aHi, bLo, bHi, size, false, 0); break;
      case Op.ADC: addSub(f, r, aLo, aHi, bLo, bHi, size, false, f.cf); break;
      case Op.SUB:
      case Op.CMP: addSub(f, r, aLo, aHi, bLo, bHi, size, true, 0); break;
      case Op.SBB: addSub(f, r, aLo, aHi, bLo, bHi, size, true, f.cf); break;
      case Op.AND:
      case Op.TEST: logic(f, r, 0, aLo, aHi, bLo, bHi, size); break;
      case Op.OR: logic(f, r, 1, aLo, aHi, bLo, bHi, size); break;
      default: logic(f, r, 2, aLo, aHi, bLo, bHi, size); break;
    }
    if (!writes) return;
    if (form === Form.MR || form === Form.MI) this.storeAt(pa, lin, size, r.lo, r.hi);
    else this.regWrite(insn.r0, size, r.lo, r.hi);
  }

  private execUnary(insn: Insn): void {
    const size = insn.size;
    let lin = 0;
    let pa = 0;
    if (insn.form === Form.M) {
      lin = this.ea(insn);
      pa = this.storeAddr(lin, size);
      this.load(lin, size);
    } else this.regRead(insn.r0, size);
    const aLo = this.mLo;
    const aHi = this.mHi;
    const f = this.flags;
    const r = this.r;
    if (insn.op === Op.NOT) {
      r.lo = size === 8 ? ~aLo : maskLo(~aLo, size);
      r.hi = size === 8 ? ~aHi : 0;
    } else if (insn.op === Op.NEG) {
      addSub(f, r, 0, 0, aLo, aHi, size, true, 0);
      f.cf = (aLo | aHi) !== 0 ? 1 : 0;
    } else {
      const cf = f.cf;
      addSub(f, r, aLo, aHi, 1, 0, size, insn.op === Op.DEC, 0);
      f.cf = cf; // INC/DEC leave CF alone
    }
    if (insn.form === Form.M) this.storeAt(pa, lin, size, r.lo, r.hi);
    else this.regWrite(insn.r0, size, r.lo, r.hi);
  }

  private execShift(insn: Insn): void {
    const size = insn.size;
    const mem = insn.form === Form.MI || insn.form === Form.MR;
    const count = insn.form === Form.RR || insn.form === Form.MR ? this.lo[1] & 0xff : insn.immLo & 0xff;
    let lin = 0;
    let pa = 0;
    if (mem) {
      lin = this.ea(insn);
      pa = this.storeAddr(lin, size);
      this.load(lin, size);
    } else this.regRead(insn.r0, size);
    const kind = insn.op === Op.SHL ? 0 : insn.op === Op.SHR ? 1 : 2;
    if (!shift(this.flags, this.r, kind, this.mLo, this.mHi, count, size)) return;
    if (mem) this.storeAt(pa, lin, size, this.r.lo, this.r.hi);
    else this.regWrite(insn.r0, size, this.r.lo, this.r.hi);
  }

  private execMulDiv(insn: Insn): void {
    const size = insn.size;
    const bits = BigInt(size * 8);
    const mask = (1n << bits) - 1n;
    this.readRM(insn);
    const src = toBig(this.mLo, this.mHi) & mask;
    const a = toBig(this.lo[0], this.hi[0]) & mask;
    const d = toBig(this.lo[2], this.hi[2]) & mask;
    const wr = (reg: number, v: bigint): void => {
      fromBig(this.r, v);
      if (size === 1 && reg === 2) {
        // 8-bit forms use AH for the high half / remainder.
        this.lo[0] = (this.lo[0] & ~0xff00) | ((this.r.lo & 0xff) << 8);
        return;
      }
      this.regWrite(reg, size, this.r.lo, this.r.hi);
    };
    if (insn.op === Op.MUL) {
      const p = a * src;
      if (size === 1) {
        this.lo[0] = (this.lo[0] & ~0xffff) | Number(p & 0xffffn);
      } else {
        wr(0, p & mask);
        wr(2, p >> bits);
      }
      this.flags.cf = this.flags.of = p >> bits !== 0n ? 1 : 0;
      return;
    }
    if (src === 0n) this.raise(Vector.DE);
    const dividend = size === 1 ? toBig(this.lo[0], 0) & 0xffffn : (d << bits) | a;
    let q: bigint;
    let rem: bigint;
    if (insn.op === Op.DIV) {
      q = dividend / src;
      rem = dividend % src;
      if (q > mask) this.raise(Vector.DE);
    } else {
      const sd = BigInt.asIntN(Number(bits) * 2, dividend);
      const ss = BigInt.asIntN(Number(bits), src);
      q = sd / ss;
      rem = sd % ss;
      const lim = 1n << (bits - 1n);
      if (q >= lim || q < -lim) this.raise(Vector.DE);
    }
    if (size === 1) {
      this.lo[0] = (this.lo[0] & ~0xffff) | Number(BigInt.asUintN(8, q)) | (Number(BigInt.asUintN(8, rem)) << 8);
    } else {
      wr(0, BigInt.asUintN(Number(bits), q));
      wr(2, BigInt.asUintN(Number(bits), rem));
    }
  }

  private execIret(): void {
    // Pops RIP, CS, RFLAGS, RSP, SS (always all five in 64-bit mode); faults leave rsp intact.
    const saveLo = this.lo[4];
    const saveHi = this.hi[4];
    try {
      this.pop64();
      const ripLo = this.mLo;
      const ripHi = this.mHi;
      this.pop64();
      const cs = this.mLo & 0xffff;
      this.pop64();
      const fl = this.mLo >>> 0;
      this.pop64();
      const spLo = this.mLo;
      const spHi = this.mHi;
      this.pop64();
      const newCpl = cs & 3;
      if (newCpl < this.cpl || (newCpl !== 0 && newCpl !== 3)) this.raise(Vector.GP, cs & 0xfffc);
      const wasIf = this.interruptsEnabled;
      let v = fl;
      if (this.cpl !== 0) v = (v & ~(Rflags.IF | 0x3000)) | (this.otherFlags & (Rflags.IF | 0x3000));
      this.rflags = v & ~0x30000;
      this.cpl = newCpl;
      this.lo[4] = spLo;
      this.hi[4] = spHi;
      this.jumpTo(ripLo, ripHi);
      if (!wasIf && this.interruptsEnabled) this.checkAt = this.icount + 1;
      else this.recomputeCheckAt();
    } catch (e) {
      this.lo[4] = saveLo;
      this.hi[4] = saveHi;
      throw e;
    }
  }

  private execCpuid(): void {
    const [a, b, c, d] = this.cpuidNative(this.lo[0] >>> 0);
    this.lo[0] = a; this.hi[0] = 0;
    this.lo[3] = b; this.hi[3] = 0;
    this.lo[1] = c; this.hi[1] = 0;
    this.lo[2] = d; this.hi[2] = 0;
  }

  /** What this vCPU's hardware answers for a CPUID leaf: [eax, ebx, ecx, edx]. */
  cpuidNative(leaf: number): [number, number, number, number] {
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    const str = (s: string): number => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
    switch (leaf) {
      case 0:
        a = 7;
        b = str('VMem');
        d = str('VMem');
        c = str('CPU ');
        break;
      case 1:
        // PSE(3) PAE(6) PGE(13) PAT(16) PSE-36(17) in edx; PCID(17) in ecx.
        d = (1 << 3) | (1 << 6) | (1 << 13) | (1 << 16) | (1 << 17) | (1 << 5) /* MSR */;
        c = 1 << 17;
        break;
      case 7:
        // SMEP(7) INVPCID(10) SMAP(20) in ebx; LA57(16) in ecx.
        b = (1 << 7) | (1 << 10) | (1 << 20);
        c = 1 << 16;
        break;
      case 0x80000000:
        a = 0x80000008;
        break;
      case 0x80000001:
        // NX(20) 1GB pages(26) LM(29).
        d = (1 << 20) | (1 << 26) | (1 << 29);
        break;
      case 0x80000008:
        // MAXPHYADDR and the linear-address width the processor supports (57: LA57 is supported).
        a = this.maxPhyAddr() | (57 << 8);
        break;
    }
    return [a, b, c, d];
  }

  maxPhyAddrBits = 40;
  private maxPhyAddr(): number {
    return this.maxPhyAddrBits;
  }

  private requireCpl0(): void {
    if (this.cpl !== 0) this.raise(Vector.GP, 0);
  }

  private execSystem(insn: Insn, next: number): void {
    switch (insn.op) {
      case Op.HLT:
        this.requireCpl0();
        if (this.vmx !== null && this.vmx.controls.hltExiting && this.vmExit({ reason: ExitReason.HLT, qualification: 0n, instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        this.rip = next;
        this.state = 'halted';
        if (this.bus.wants.halt) this.bus.emit({ kind: 'halt', icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        if (!this.interruptsEnabled || this.timerPeriod === 0) {
          this.stop('halted', this.interruptsEnabled ? 'hlt with no timer running' : 'hlt with interrupts disabled');
        }
        return;
      case Op.CLI:
        this.requireCpl0();
        this.otherFlags &= ~Rflags.IF;
        this.rip = next;
        return;
      case Op.STI:
        this.requireCpl0();
        if (!this.interruptsEnabled) {
          this.otherFlags |= Rflags.IF;
          // The STI shadow: interrupts are recognised only after the next instruction completes.
          this.interruptShadowUntil = this.icount + 2;
          this.recomputeCheckAt();
        }
        this.rip = next;
        return;
      case Op.CLAC:
        this.requireCpl0();
        this.otherFlags &= ~Rflags.AC;
        this.rip = next;
        return;
      case Op.STAC:
        this.requireCpl0();
        this.otherFlags |= Rflags.AC;
        this.rip = next;
        return;
      case Op.RDMSR: {
        this.requireCpl0();
        if (this.vmx !== null && this.vmx.controls.msrExiting && this.vmExit({ reason: ExitReason.RDMSR, qualification: 0n, instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        const v = this.readMsr(this.lo[1] >>> 0);
        fromBig(this.r, v);
        this.lo[0] = this.r.lo; this.hi[0] = 0;
        this.lo[2] = this.r.hi; this.hi[2] = 0;
        this.rip = next;
        return;
      }
      case Op.WRMSR:
        this.requireCpl0();
        if (this.vmx !== null && this.vmx.controls.msrExiting && this.vmExit({ reason: ExitReason.WRMSR, qualification: 0n, instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        this.writeMsr(this.lo[1] >>> 0, (BigInt(this.lo[2] >>> 0) << 32n) | BigInt(this.lo[0] >>> 0));
        this.rip = next;
        return;
      case Op.INVLPG: {
        this.requireCpl0();
        // INVLPG takes the address itself; a non-canonical one is a no-op, not a fault.
        let lin: number;
        try {
          lin = this.ea(insn);
        } catch (e) {
          if (e !== FAULT) throw e;
          this.faultVector = -1;
          this.rip = next;
          return;
        }
        if (this.vmx !== null && this.vmx.controls.invlpgExiting && this.vmExit({ reason: ExitReason.INVLPG, qualification: this.canonical(lin), guestLinear: this.canonical(lin), instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        const res = this.mmu.invlpg(lin);
        if (this.bus.wants.invlpg) this.bus.emit({ kind: 'invlpg', gva: this.canonical(lin), icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        this.emitFlush(res, 'INVLPG', this.canonical(lin));
        this.rip = next;
        return;
      }
      case Op.INVPCID: {
        this.requireCpl0();
        // INVPCID exits under "INVLPG exiting" (with INVPCID enabled), as in VMX; the exit comes
        // before the instruction's own checks and memory reads (SDM §26.1.1). The qualification
        // is the memory operand's displacement.
        if (this.vmx !== null && this.vmx.controls.invlpgExiting && this.vmExit({ reason: ExitReason.INVPCID, qualification: BigInt.asUintN(64, BigInt(insn.disp)), instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        const type = this.lo[insn.r0] >>> 0;
        if (this.hi[insn.r0] !== 0 || type > 3) this.raise(Vector.GP, 0);
        const lin = this.ea(insn);
        this.load(lin, 8);
        const pcidLo = this.mLo;
        const pcidHi = this.mHi;
        this.load(this.nextLinear(lin, 8), 8);
        const aLo = this.mLo;
        const aHi = this.mHi;
        // Descriptor bits 63:12 of the first qword are reserved.
        if ((pcidLo & ~0xfff) !== 0 || pcidHi !== 0) this.raise(Vector.GP, 0);
        let addr = 0;
        if (type === 0) {
          const top = aHi >> (this.laBits - 33);
          if (this.longMode && top !== 0 && top !== -1) this.raise(Vector.GP, 0);
          addr = this.linearOf(aLo, aHi);
        }
        const res = this.mmu.invpcid(type, pcidLo & 0xfff, addr);
        if (res === null) this.raise(Vector.GP, 0);
        if (this.bus.wants.invpcid) this.bus.emit({ kind: 'invpcid', type, pcid: pcidLo & 0xfff, gva: this.canonical(addr), icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        this.emitFlush(res, `INVPCID type ${type}`, type === 0 ? this.canonical(addr) : undefined, pcidLo & 0xfff);
        this.rip = next;
        return;
      }
      case Op.LIDT: {
        this.requireCpl0();
        const lin = this.ea(insn);
        this.load(lin, 2);
        const limit = this.mLo & 0xffff;
        const lin2 = this.nextLinear(lin, 2);
        this.load(lin2, 8);
        this.idtLimit = limit;
        this.idtBase = this.longMode ? toBig(this.mLo, this.mHi) : BigInt(this.mLo >>> 0);
        this.rip = next;
        return;
      }
      case Op.IN: {
        this.requireCpl0();
        const port = insn.form === Form.RR ? this.lo[2] & 0xffff : insn.immLo & 0xff;
        if (this.vmx !== null && this.vmx.controls.unconditionalIoExiting && this.vmExit({ reason: ExitReason.IO_INSTRUCTION, qualification: BigInt(ioQualification(insn.size, true, insn.form !== Form.RR, port)), instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        const v = this.io.in(port, insn.size) >>> 0;
        if (this.bus.wants.io) this.bus.emit({ kind: 'io', port, direction: 'in', size: insn.size, value: v, icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        this.regWrite(insn.r0, insn.size, v | 0, 0);
        this.rip = next;
        return;
      }
      case Op.OUT: {
        this.requireCpl0();
        const port = insn.form === Form.RR ? this.lo[2] & 0xffff : insn.immLo & 0xff;
        const v = maskLo(this.lo[insn.r0], insn.size);
        if (this.vmx !== null && this.vmx.controls.unconditionalIoExiting && this.vmExit({ reason: ExitReason.IO_INSTRUCTION, qualification: BigInt(ioQualification(insn.size, false, insn.form === Form.IR, port)), instructionLength: insn.length })) {
          this.rip = next;
          return;
        }
        this.rip = next;
        if (this.bus.wants.io) this.bus.emit({ kind: 'io', port, direction: 'out', size: insn.size, value: v, icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
        this.io.out(port, insn.size, v);
        return;
      }
      default:
        this.raise(Vector.UD);
    }
  }

  private nextLinear(lin: number, delta: number): number {
    const n = lin + delta;
    if (!this.longMode) return n % TWO32;
    if (lin < this.laHalf && n >= this.laHalf) this.raise(Vector.GP, 0);
    return n % this.laSize;
  }

  // ---------------------------------------------------------------- control registers and MSRs

  /** Does MOV to CRn with this value exit (CR3-load exiting, or a host-owned CR0/CR4 bit changing)? */
  private crWriteExits(n: number, lo: number): boolean {
    const c = this.vmx!.controls;
    if (n === 3) return c.cr3LoadExiting;
    if (n === 0) return ((this.cr0 ^ lo) & c.cr0GuestHostMask) !== 0;
    if (n === 4) return ((this.cr4 ^ lo) & c.cr4GuestHostMask) !== 0;
    return false;
  }

  readCr(n: number): bigint {
    switch (n) {
      case 0: return BigInt(this.cr0 >>> 0);
      case 2: return this.cr2;
      case 3: return BigInt(this.cr3);
      default: return BigInt(this.cr4 >>> 0);
    }
  }

  private emitFlush(res: FlushResult | null, cause: string, gva?: bigint, pcid?: number): void {
    if (res === null || !this.bus.wants['tlb-flush']) return;
    this.bus.emit({ kind: 'tlb-flush', scope: res.scope, cause, gva, pcid, entriesRemoved: res.entriesRemoved, icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) });
  }

  /** MOV to CR0/CR3/CR4 with the SDM's #GP checks, mode switches and TLB flush rules. */
  writeCr(n: number, lo: number, hi: number): void {
    const stamp = { icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) };
    if (n === 2) {
      this.cr2 = toBig(lo, hi);
      return;
    }
    // Outside long mode MOV to CR takes a 32-bit operand: the upper half is ignored.
    if (!this.longMode) hi = 0;
    if (n === 3) {
      // Bit 63 is the no-flush hint with CR4.PCIDE=1, else a reserved bit (#GP(0)).
      if ((hi & 0x80000000) !== 0 && (this.cr4 & Cr4.PCIDE) === 0) this.raise(Vector.GP, 0);
      const noFlush = (this.cr4 & Cr4.PCIDE) !== 0 && (hi & 0x80000000) !== 0;
      const value = (hi & 0x7fffffff) * TWO32 + (lo >>> 0);
      if (value >= 2 ** this.maxPhyAddrBits) this.raise(Vector.GP, 0);
      const old = this.cr3;
      this.cr3 = this.longMode ? value : value % TWO32;
      this.syncMode();
      if (this.isPae() && !this.mmu.loadPdptes()) {
        this.cr3 = old;
        this.syncMode();
        this.raise(Vector.GP, 0);
      }
      const res = this.mmu.onCr3Write(this.cr3, noFlush);
      if (this.bus.wants['cr3-write']) this.bus.emit({ kind: 'cr3-write', oldValue: BigInt(old), newValue: BigInt(this.cr3), noFlush, ...stamp });
      this.emitFlush(res, noFlush ? 'MOV CR3 (no-flush)' : 'MOV CR3');
      return;
    }
    if (hi !== 0) this.raise(Vector.GP, 0);
    const v = lo >>> 0;
    if (n === 0) {
      if ((v & ~CR0_VALID) !== 0) this.raise(Vector.GP, 0);
      if ((v & Cr0.PG) !== 0 && (v & Cr0.PE) === 0) this.raise(Vector.GP, 0);
      if ((v & Cr0.CD) === 0 && (v & (1 << 29)) !== 0) this.raise(Vector.GP, 0);
      const old = this.cr0;
      const enablingPaging = (v & Cr0.PG) !== 0 && (old & Cr0.PG) === 0;
      let efer = this.efer;
      if (enablingPaging && (efer & Efer.LME) !== 0) {
        if ((this.cr4 & Cr4.PAE) === 0) this.raise(Vector.GP, 0);
        efer |= Efer.LMA;
      }
      if ((v & Cr0.PG) === 0 && (old & Cr0.PG) !== 0) {
        // Paging can be turned off only outside 64-bit mode (from compatibility mode, which this
        // machine does not have): in long mode clearing CR0.PG is #GP(0), as on x86.
        if (this.longMode) this.raise(Vector.GP, 0);
        if ((this.cr4 & Cr4.PCIDE) !== 0) this.raise(Vector.GP, 0);
      }
      this.cr0 = v;
      const oldEfer = this.efer;
      this.efer = efer;
      this.syncMode();
      if ((v & Cr0.PG) !== 0 && this.isPae() && ((old ^ v) & (Cr0.PG | Cr0.CD | (1 << 29))) !== 0 && !this.mmu.loadPdptes()) {
        this.cr0 = old;
        this.efer = oldEfer;
        this.syncMode();
        this.raise(Vector.GP, 0);
      }
      const res = this.mmu.onCr0Write(old, v);
      if (this.bus.wants['cr-write']) this.bus.emit({ kind: 'cr-write', register: 0, oldValue: BigInt(old >>> 0), newValue: BigInt(v), ...stamp });
      this.emitFlush(res, 'MOV CR0');
      return;
    }
    // CR4
    if ((v & ~CR4_VALID) !== 0) this.raise(Vector.GP, 0);
    const old = this.cr4;
    if (this.longMode && (v & Cr4.PAE) === 0) this.raise(Vector.GP, 0);
    if (this.longMode && ((old ^ v) & Cr4.LA57) !== 0) this.raise(Vector.GP, 0);
    if ((v & Cr4.PCIDE) !== 0 && (old & Cr4.PCIDE) === 0 && (!this.longMode || (this.cr3 & 0xfff) !== 0)) this.raise(Vector.GP, 0);
    this.cr4 = v;
    this.syncMode();
    if ((this.cr0 & Cr0.PG) !== 0 && this.isPae() && ((old ^ v) & (Cr4.PAE | Cr4.PGE | Cr4.PSE | Cr4.SMEP)) !== 0 && !this.mmu.loadPdptes()) {
      this.cr4 = old;
      this.syncMode();
      this.raise(Vector.GP, 0);
    }
    const res = this.mmu.onCr4Write(old, v);
    if (this.bus.wants['cr-write']) this.bus.emit({ kind: 'cr-write', register: 4, oldValue: BigInt(old >>> 0), newValue: BigInt(v), ...stamp });
    this.emitFlush(res, 'MOV CR4');
  }

  private isPae(): boolean {
    return (this.cr0 & Cr0.PG) !== 0 && (this.cr4 & Cr4.PAE) !== 0 && !this.longMode;
  }

  readMsr(msr: number): bigint {
    switch (msr) {
      case Msr.TSC: return BigInt(this.icount);
      case Msr.EFER: return BigInt(this.efer);
      case Msr.VMEM_RSP0: return toBig(this.rsp0Lo, this.rsp0Hi);
      case Msr.VMEM_TIMER_PERIOD: return BigInt(this.timerPeriod);
      case Msr.VMEM_TIMER_VECTOR: return BigInt(this.timerVector);
    }
    return this.raise(Vector.GP, 0);
  }

  writeMsr(msr: number, value: bigint): void {
    const stamp = { icount: this.icount, vcpu: this.index, rip: BigInt.asUintN(64, BigInt(this.insnStart)) };
    switch (msr) {
      case Msr.EFER: {
        const v = Number(value & 0xffffffffn);
        if (value >> 32n !== 0n || (v & ~(EFER_WRITABLE | Efer.LMA)) !== 0) this.raise(Vector.GP, 0);
        // LME cannot change while paging is on; LMA is read-only (kept as the CPU set it).
        if ((this.cr0 & Cr0.PG) !== 0 && ((v ^ this.efer) & Efer.LME) !== 0) this.raise(Vector.GP, 0);
        this.efer = (v & EFER_WRITABLE) | (this.efer & Efer.LMA);
        this.syncMode();
        break;
      }
      case Msr.VMEM_RSP0:
        fromBig(this.r, value);
        this.rsp0Lo = this.r.lo;
        this.rsp0Hi = this.r.hi;
        break;
      case Msr.VMEM_TIMER_PERIOD:
        if (value > 0xffffffffn) this.raise(Vector.GP, 0);
        this.setTimer(Number(value));
        break;
      case Msr.VMEM_TIMER_VECTOR:
        if (value < 32n || value > 255n) this.raise(Vector.GP, 0);
        this.timerVector = Number(value);
        break;
      default:
        this.raise(Vector.GP, 0);
    }
    if (this.bus.wants['msr-write']) this.bus.emit({ kind: 'msr-write', msr, value, ...stamp });
  }
}

function invalidateDecoded(f: Frame, off: number, size: number): void {
  const cache = f.decoded!;
  const from = off - (MAX_INSN_LENGTH - 1) < 0 ? 0 : off - (MAX_INSN_LENGTH - 1);
  for (let i = from; i < off + size && i < PAGE_SIZE; i++) cache[i] = undefined;
}

function hex(v: number): string {
  return '0x' + (v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(v)).toString(16);
}

export type { AccessCode };
