// The per-VM virtual machine monitor's exit path: every VM exit — from an instruction (the
// vCPU's VmxPort door) or from an MMU port (a hidden #PF, an EPT violation) — is counted by
// reason, remembered as the last exit, emitted as a `vm-exit` event and handed to the mode.
import type { EventBus } from '../events';
import type { ExitAction, ExitRequest, ExitingCpu, VmxPort } from '../cpu/vmxPort';
import { CONTINUE, SKIP } from '../cpu/vmxPort';

const UD: ExitAction = { kind: 'inject', vector: 6 };
import type { ExecutionControls } from './controls';
import { ExitReason, describeQualification, exitReasonName } from './exitReasons';
import type { MemoryMode } from '../vm';

export interface RecordedExit extends ExitRequest {
  readonly reasonName: string;
  /** The qualification in words (describeQualification). */
  readonly description: string;
  vcpu: number;
  icount: number;
  rip: bigint;
}

/**
 * An exit as the monitor remembers it. Recording happens on every exit (hundreds of thousands
 * per second when a VM touches fresh memory) while its words are read only by a debugger view
 * or an event listener, so the reason name and the decoded qualification are built when read.
 */
class ExitRecord implements RecordedExit {
  readonly reason: number;
  readonly qualification: bigint;
  readonly guestLinear: bigint | undefined;
  readonly guestPhysical: bigint | undefined;
  readonly interruptionInfo: number | undefined;
  readonly errorCode: number | undefined;
  readonly instructionLength: number | undefined;
  private words: string | undefined = undefined;

  constructor(
    request: ExitRequest,
    readonly vcpu: number,
    readonly icount: number,
    readonly rip: bigint,
  ) {
    this.reason = request.reason;
    this.qualification = request.qualification;
    this.guestLinear = request.guestLinear;
    this.guestPhysical = request.guestPhysical;
    this.interruptionInfo = request.interruptionInfo;
    this.errorCode = request.errorCode;
    this.instructionLength = request.instructionLength;
  }

  get reasonName(): string {
    return exitReasonName(this.reason);
  }

  get description(): string {
    return (this.words ??= describeQualification(this.reason, this.qualification));
  }
}

/** A mode's own handling of exits (hypercalls, CPUID leaves); undefined → continue. */
export type ExitHandler = (cpu: ExitingCpu, request: ExitRequest) => ExitAction | undefined;

/** CPUID leaf 0x40000001 eax: which memory virtualization the hypervisor uses (for guests that care, e.g. paravirtual ones). */
export const MODE_CODES: Record<MemoryMode, number> = { native: 0, shadow: 1, nested: 2, paravirt: 3 };

export class Monitor implements VmxPort {
  readonly exitCounts = new Map<number, number>();
  lastExit: RecordedExit | null = null;
  /** Called after every exit is recorded (e.g. the TLB flush of VMX without VPID). */
  afterExit: (() => void) | null = null;
  /** Mode-specific handlers, tried in order. */
  readonly handlers: ExitHandler[] = [];

  constructor(
    readonly vmId: number,
    readonly mode: MemoryMode,
    readonly controls: ExecutionControls,
    private readonly bus: EventBus,
  ) {}

  get totalExits(): number {
    let n = 0;
    for (const v of this.exitCounts.values()) n += v;
    return n;
  }

  /** Counts, remembers and reports an exit; no handling. MMU ports call this for the exits they own. */
  record(cpu: ExitingCpu, request: ExitRequest): RecordedExit {
    this.exitCounts.set(request.reason, (this.exitCounts.get(request.reason) ?? 0) + 1);
    const rec = new ExitRecord(request, cpu.index, cpu.icount, cpu.ripValue);
    this.lastExit = rec;
    this.afterExit?.();
    if (this.bus.wants['vm-exit']) {
      this.bus.emit({
        kind: 'vm-exit', reason: rec.reason, reasonName: rec.reasonName, qualification: rec.qualification, description: rec.description,
        guestLinear: rec.guestLinear, guestPhysical: rec.guestPhysical, interruptionInfo: rec.interruptionInfo, errorCode: rec.errorCode,
        icount: rec.icount, vcpu: rec.vcpu, rip: rec.rip,
      });
    }
    return rec;
  }

  exit(cpu: ExitingCpu, request: ExitRequest): ExitAction {
    this.record(cpu, request);
    for (const h of this.handlers) {
      const a = h(cpu, request);
      if (a) return a;
    }
    if (request.reason === ExitReason.CPUID) return this.emulateCpuid(cpu);
    // No hypercall interface in this mode: the guest gets the #UD it would get natively
    // (a paravirtual mode claims VMCALL with its own handler before this).
    if (request.reason === ExitReason.VMCALL) return UD;
    return CONTINUE;
  }

  /** Exit counts as a plain object keyed by reason name (statistics, CLI). */
  countsByName(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, n] of [...this.exitCounts].sort((a, b) => a[0] - b[0])) out[`${r} ${exitReasonName(r)}`] = n;
    return out;
  }

  /**
   * CPUID as the guest sees it under this hypervisor: the processor's answer, with the
   * hypervisor-present bit (leaf 1 ecx bit 31) and the hypervisor leaves 0x40000000 (vendor)
   * and 0x40000001 (eax: the memory-virtualization mode, see MODE_CODES).
   */
  private emulateCpuid(cpu: ExitingCpu): ExitAction {
    const leaf = Number(cpu.getReg(0) & 0xffffffffn);
    let [a, b, c, d] = cpu.cpuidNative(leaf);
    const str = (s: string): number => (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
    if (leaf === 1) c = (c | 0x80000000) >>> 0;
    if (leaf === 0x40000000) [a, b, c, d] = [0x40000001, str('VMem'), str('VMMV'), str('irt ')];
    if (leaf === 0x40000001) [a, b, c, d] = [MODE_CODES[this.mode], 0, 0, 0];
    cpu.setReg(0, BigInt(a >>> 0));
    cpu.setReg(3, BigInt(b >>> 0));
    cpu.setReg(1, BigInt(c >>> 0));
    cpu.setReg(2, BigInt(d >>> 0));
    return SKIP;
  }
}
