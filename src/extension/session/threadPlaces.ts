// Which VM and vCPU a DAP thread is. The adapter names threads `<vm name>/vcpu<index>` and lists
// them VM by VM in the order of its VM ids (1-based), so the n-th distinct VM name is VM n —
// scenario VMs carry their own names ("shadowed/vcpu0"), not "vm1". Thread ids themselves are an
// adapter detail (vm * 100 + vcpu + 1 today) used only when a name does not parse.

export interface ThreadLike {
  id: number;
  name: string;
}

export interface ThreadPlace {
  threadId: number;
  /** 1-based VM id, as the views' custom requests take it. */
  vm: number;
  vcpu: number;
  /** The thread's name as the adapter gave it, e.g. "vm1/vcpu0". */
  name: string;
  vmName: string;
}

const NAME = /^(.*)\/vcpu(\d+)$/;

/** Parses one thread name into its VM name and vCPU index, or undefined. */
export function parseThreadName(name: string): { vmName: string; vcpu: number } | undefined {
  const m = NAME.exec(name);
  if (!m || m[1] === '') return undefined;
  return { vmName: m[1], vcpu: Number(m[2]) };
}

/** The adapter's thread id scheme, for threads whose names say nothing. */
export function placeFromThreadId(threadId: number): { vm: number; vcpu: number } {
  return { vm: Math.floor((threadId - 1) / 100) + 1, vcpu: (threadId - 1) % 100 };
}

/** Every thread's place, keyed by thread id. */
export function placesOfThreads(threads: readonly ThreadLike[]): Map<number, ThreadPlace> {
  const vmOrder = new Map<string, number>();
  const out = new Map<number, ThreadPlace>();
  for (const t of threads) {
    const parsed = parseThreadName(t.name);
    if (parsed) {
      let vm = vmOrder.get(parsed.vmName);
      if (vm === undefined) {
        vm = vmOrder.size + 1;
        vmOrder.set(parsed.vmName, vm);
      }
      out.set(t.id, { threadId: t.id, vm, vcpu: parsed.vcpu, name: t.name, vmName: parsed.vmName });
    } else {
      const p = placeFromThreadId(t.id);
      out.set(t.id, { threadId: t.id, ...p, name: t.name, vmName: `vm${p.vm}` });
    }
  }
  return out;
}

/** Reads a DAP `threads` response body defensively (it crosses a process boundary). */
export function threadsOfResponse(body: unknown): ThreadLike[] {
  const list = (body as { threads?: unknown } | undefined)?.threads;
  if (!Array.isArray(list)) return [];
  return list.flatMap((t: unknown) => {
    if (typeof t !== 'object' || t === null) return [];
    const r = t as { id?: unknown; name?: unknown };
    return typeof r.id === 'number' && typeof r.name === 'string' ? [{ id: r.id, name: r.name }] : [];
  });
}
