// The VM's I/O ports. Documented in docs/machine.md:
//   0xE9  debug console (out: a byte of text, as Bochs and QEMU's debugcon; in: reads 0xE9)
//   0xF4  exit (out: the guest's status code; ends the VM, as QEMU's isa-debug-exit)
//   0xF0  AP start address, low 32 bits (out, dword)
//   0xF1  start vCPU n at that address (out)
// Other devices (the balloon, the guest disk, ...) are attached per VM with attach(): this file
// routes their ports without knowing them. Any port nobody claims reads as all ones and ignores
// writes, like an empty ISA bus.
import type { EventBus } from './events';

/** A device on a VM's I/O bus, attached with Devices.attach. */
export interface PortDevice {
  /** For messages (a port conflict names both devices). */
  readonly name: string;
  /** The ports it decodes; every access to one of them comes to it. */
  readonly ports: readonly number[];
  in(vcpu: number, port: number, size: number): number;
  out(vcpu: number, port: number, size: number, value: number): void;
}

export const Port = { CONSOLE: 0xe9, EXIT: 0xf4, AP_START_ADDRESS: 0xf0, AP_START: 0xf1 } as const;
const BUILT_IN_PORTS: ReadonlySet<number> = new Set(Object.values(Port));

/** Console text kept per VM (older text is dropped past this). */
const CONSOLE_LIMIT = 1 << 20;

export class Devices {
  console = '';
  exitCode: number | undefined;
  onStartVcpu: (index: number, rip: bigint) => void = () => undefined;
  private line = '';
  private apStart = 0;
  private readonly attached = new Map<number, PortDevice>();
  private readonly deviceList: PortDevice[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly exit: (code: number) => void,
    private readonly stamp: (vcpu: number) => { icount: number; rip: bigint },
  ) {}

  /** Puts a device on the bus. A port already taken (built in or by another device) is an error. */
  attach(device: PortDevice): void {
    for (const p of device.ports) {
      const owner = BUILT_IN_PORTS.has(p) ? 'the built-in devices' : this.attached.get(p)?.name;
      if (owner !== undefined) throw new Error(`port 0x${p.toString(16)} of ${device.name} is already taken by ${owner}`);
    }
    for (const p of device.ports) this.attached.set(p, device);
    this.deviceList.push(device);
  }

  /** The attached device of this class, if any (e.g. the VMM finding a VM's balloon). */
  find<T extends PortDevice>(cls: abstract new (...args: never[]) => T): T | undefined {
    for (const d of this.deviceList) if (d instanceof cls) return d;
    return undefined;
  }

  /** Every attached device, in attach order. */
  get all(): readonly PortDevice[] {
    return this.deviceList;
  }

  in(vcpu: number, port: number, size: number): number {
    if (port === Port.CONSOLE) return 0xe9;
    const d = this.attached.get(port);
    if (d) return d.in(vcpu, port, size);
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  out(vcpu: number, port: number, size: number, value: number): void {
    const d = this.attached.get(port);
    if (d) {
      d.out(vcpu, port, size, value);
      return;
    }
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
