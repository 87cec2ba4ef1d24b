// The adapter's guest-virtual memory references, `gva:<vm>/<vcpu>:<hex>` (docs/views-protocol.md):
// on variables (registers, CR2, the Translation scope's address) and on evaluate results, they
// say both that a value is a gva and which vCPU's paging it goes through.

export interface GvaReference {
  vm: number;
  vcpu: number;
  /** Canonical lower-case 0x hex. */
  gva: string;
}

const GVA_REF = /^\s*gva:(\d+)\/(\d+):(?:0x)?([0-9a-f]{1,16})\s*$/i;

export function parseGvaReference(ref: unknown): GvaReference | undefined {
  const m = typeof ref === 'string' ? GVA_REF.exec(ref) : null;
  if (!m) return undefined;
  return { vm: Number(m[1]), vcpu: Number(m[2]), gva: '0x' + BigInt('0x' + m[3]).toString(16) };
}
