// The VM's I/O ports. Documented in docs/machine.md:
//   0xE9  debug console (out: a byte of text, as Bochs and QEMU's debugcon; in: reads 0xE9)
//   0xF4  exit (out: the guest's status code; ends the VM, as QEMU's isa-debug-exit)
//   0xF0  AP start address, low 32 bits (out, dword)
//   0xF1  start vCPU n at that address (out)
// Any other port reads as all ones and ignores writes, like an empty ISA bus.
import type { EventBus } from './events';

export const Port = { CONSOLE: 0xe9, EXIT: 0xf4, AP_START_ADDRESS: 0xf0, AP_START: 0xf1 } as const;

/** Console text kept per VM (older text is dropped past this). */
const CONSOLE_LIMIT = 1 << 20;

export class Devices {
  console = '';
  exitCode: number | undefined;
  onStartVcpu: (index: number, rip: bigint) => void = () => undefined;
  private line = '';
  private apStart = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly exit: (code: number) => void,
    private readonly stamp: (vcpu: number) => { icount: number; rip: bigint },
  ) {}

  in(_vcpu: number, port: number, size: number): number {
    if (port === Port.CONSOLE) return 0xe9;
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  out(vcpu: number, port: number, _size: number, value: number): void {
    switch (port) {
      case Port.CONSOLE: {
        const ch = String.fromCharCode(value & 0xff);
        this.console += ch;
        if (this.console.length > CONSOLE_LIMIT) this.console = this.console.slice(-CONSOLE_LIMIT / 2);
        this.line += ch;
        if (ch === '\n' || this.line.length >= 256) this.flushLine(vcpu);
        return;
      }
      case Port.EXIT:
        this.flushLine(vcpu);
        this.exit(value);
        return;
      case Port.AP_START_ADDRESS:
        this.apStart = value >>> 0;
        return;
      case Port.AP_START:
        this.onStartVcpu(value, BigInt(this.apStart));
        return;
    }
  }

  /** Emits buffered console text that has no newline yet (at stops). */
  flushLine(vcpu = 0): void {
    if (this.line === '') return;
    const text = this.line;
    this.line = '';
    if (this.bus.wants.console) this.bus.emit({ kind: 'console', text, vcpu, ...this.stamp(vcpu) });
  }
}
