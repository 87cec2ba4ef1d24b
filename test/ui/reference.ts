// The engine's state at a stop, fetched independently of the extension: the bundled debug
// adapter driven by DebugClient over stdio, brought to the same stop as the UI session (the
// engine is deterministic), asked the same custom requests the views use. The UI tests check
// what the views draw against this.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { act, launchAndStop, startAdapter } from '../debugAdapter/adapterHarness';
import type { ContextWire, TableEntryWire, TableRootWire, TlbWire, TranslationWire } from '../../src/debugAdapter/viewsProtocol';

export interface ReferenceStop {
  stop: DebugProtocol.StoppedEvent;
  context: ContextWire;
  roots: TableRootWire[];
  /** The entries of the guest PT root of vm 1 / vcpu 0 (present ones). */
  guestRootEntries: TableEntryWire[];
  tlb: TlbWire;
  /** The translation of the stop's focus address. */
  walk: TranslationWire;
}

/**
 * Launches `program` in `mode` with only `filter` armed and returns the state at its first stop
 * on thread vm1/vcpu0.
 */
export async function referenceStop(program: string, mode: string, filter: string): Promise<ReferenceStop> {
  const { dc, stop: end } = await startAdapter('stdio');
  try {
    const stop = await launchAndStop(dc, { program, mode }, () => dc.setExceptionBreakpointsRequest({ filters: [filter] }));
    const request = async <T>(name: string, args: object): Promise<T> => (await dc.customRequest(name, args)).body as T;
    const context = await request<ContextWire>('vmem/context', { vm: 1, vcpu: 0 });
    const roots = await request<TableRootWire[]>('vmem/tableRoots', {});
    const guest = roots.find((r) => r.vm === 1 && r.kind === 'guest' && r.vcpu === 0);
    if (!guest) throw new Error(`no guest root for vm 1 vcpu 0 in ${JSON.stringify(roots)}`);
    const entries = await request<{ entries: TableEntryWire[] }>('vmem/tableEntries', {
      vm: guest.vm, kind: guest.kind, address: guest.address, level: guest.level, paging: guest.paging, vcpu: guest.vcpu,
    });
    const tlb = await request<TlbWire>('vmem/tlb', { vm: 1, vcpu: 0 });
    if (context.focusAddress === null) throw new Error('the reference stop has no focus address');
    const walk = await request<TranslationWire>('vmem/walk', { vm: 1, vcpu: 0, gva: context.focusAddress, access: context.access });
    return { stop, context, roots, guestRootEntries: entries.entries.filter((e) => e.present), tlb, walk };
  } finally {
    await end();
  }
}

/**
 * The stop the e2e flow reaches after its first stop: from the first `filter` stop on vm1/vcpu0,
 * one step over (F10), then continue (F5) with the filter still armed. Its description names the
 * next fault; the TLB is vm1/vcpu0's there.
 */
export async function referenceStepThenContinue(program: string, mode: string, filter: string): Promise<{ stepped: DebugProtocol.StoppedEvent; stop: DebugProtocol.StoppedEvent; tlb: TlbWire }> {
  const { dc, stop: end } = await startAdapter('stdio');
  try {
    await launchAndStop(dc, { program, mode }, () => dc.setExceptionBreakpointsRequest({ filters: [filter] }));
    const stepped = await act(dc, dc.nextRequest({ threadId: 1 }));
    const stop = await act(dc, dc.continueRequest({ threadId: 1 }));
    const tlb = (await dc.customRequest('vmem/tlb', { vm: 1, vcpu: 0 })).body as TlbWire;
    return { stepped, stop, tlb };
  } finally {
    await end();
  }
}

export interface ReferenceVcpu {
  vcpu: number;
  /** The vCPU's guest page-table root (its CR3). */
  root: TableRootWire;
  tlb: TlbWire;
}

/** Launches `program` with `args` and a breakpoint at `line`; every vCPU of vm1 at that first stop. */
export async function referenceVcpusAtBreakpoint(program: string, args: Record<string, unknown>, line: number): Promise<{ stop: DebugProtocol.StoppedEvent; vcpus: ReferenceVcpu[] }> {
  const { dc, stop: end } = await startAdapter('stdio');
  try {
    const stop = await launchAndStop(dc, { program, ...args }, () => dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line }] }));
    const roots = (await dc.customRequest('vmem/tableRoots', {})).body as TableRootWire[];
    const vcpus: ReferenceVcpu[] = [];
    for (const root of roots.filter((r) => r.vm === 1 && r.kind === 'guest' && r.vcpu !== undefined).sort((x, y) => (x.vcpu ?? 0) - (y.vcpu ?? 0))) {
      const vcpu = root.vcpu ?? 0;
      vcpus.push({ vcpu, root, tlb: (await dc.customRequest('vmem/tlb', { vm: 1, vcpu })).body as TlbWire });
    }
    return { stop, vcpus };
  } finally {
    await end();
  }
}
