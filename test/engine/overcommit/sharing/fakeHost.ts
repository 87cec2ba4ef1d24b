// A small hypervisor for the sharing table and scanner tests: guest pages with states and
// contents, shared frames with reference counts, the p2m operations the table calls — and the
// copy-on-write break, so the tests can check the table follows the machine.
import { EventBus } from '../../../../src/engine/events';
import { PAGE_SIZE } from '../../../../src/engine/memory/frame';
import type { FrameWords } from '../../../../src/engine/memory/frame';
import type { ScanHost, ScanVm } from '../../../../src/engine/memory/overcommit/sharing/scanner';
import { pageWords } from '../../../../src/engine/memory/overcommit/sharing/pageHash';
import { seededU32 } from '../../../../src/engine/memory/overcommit/seededRandom';

export type FakeState = 'unbacked' | 'private' | 'shared' | 'ballooned' | 'swapped' | 'guest-pt';

interface FakePage {
  state: FakeState;
  /** Private contents (private, guest-pt, swapped) or the shared frame's mpn. */
  bytes: Uint8Array | null;
  mpn: number;
}

export class FakeHost implements ScanHost {
  readonly vmList: ScanVm[] = [];
  private readonly pagesOf = new Map<number, FakePage[]>();
  readonly frames = new Map<number, { bytes: Uint8Array; refs: number }>();
  private nextMpn = 1;
  /** Calls the table made, for tests that count them. */
  calls = { createShared: 0, shareWith: 0, eligible: 0 };
  /** Pages shareWith refuses (e.g. a paravirtual VM's). */
  readonly refuse = new Set<string>();

  addVm(vmId: number, pages: number): ScanVm {
    const vm: ScanVm = { vmId, pages, bus: new EventBus() };
    this.vmList.push(vm);
    this.pagesOf.set(vmId, Array.from({ length: pages }, () => ({ state: 'unbacked' as FakeState, bytes: null, mpn: -1 })));
    return vm;
  }

  /** Makes (vmId, ppn) a private page holding `bytes` (a copy). */
  write(vmId: number, ppn: number, bytes: Uint8Array): void {
    const p = this.page(vmId, ppn);
    if (p.state === 'shared') this.cowBreak(vmId, ppn);
    p.state = 'private';
    p.bytes = bytes.slice();
  }

  /** Changes one byte as a guest store would (breaking copy-on-write on a shared page). */
  poke(vmId: number, ppn: number, offset: number, value: number): void {
    const p = this.page(vmId, ppn);
    if (p.state === 'shared') this.cowBreak(vmId, ppn);
    if (!p.bytes) {
      p.bytes = new Uint8Array(PAGE_SIZE);
      p.state = 'private';
    }
    p.bytes[offset] = value;
  }

  setState(vmId: number, ppn: number, state: FakeState): void {
    const p = this.page(vmId, ppn);
    if (p.state === 'shared') this.dropRef(p.mpn);
    p.state = state;
  }

  stateOf(vmId: number, ppn: number): FakeState {
    return this.page(vmId, ppn).state;
  }

  /** What the guest reads at (vmId, ppn). */
  read(vmId: number, ppn: number): Uint8Array {
    const p = this.page(vmId, ppn);
    if (p.state === 'shared') return this.frames.get(p.mpn)!.bytes;
    return p.bytes ?? new Uint8Array(PAGE_SIZE);
  }

  mpnOf(vmId: number, ppn: number): number {
    return this.page(vmId, ppn).mpn;
  }

  /** A guest write to a shared page: a private copy, one reference less, the 'cow-break' event. */
  cowBreak(vmId: number, ppn: number): void {
    const p = this.page(vmId, ppn);
    const old = p.mpn;
    const f = this.frames.get(old)!;
    p.bytes = f.bytes.slice();
    p.state = 'private';
    p.mpn = -1;
    const refsLeft = this.dropRef(old);
    const vm = this.vmList.find((v) => v.vmId === vmId)!;
    if (vm.bus.wants['cow-break']) vm.bus.emit({ kind: 'cow-break', ppn, oldMpn: old, newMpn: 1e6 + ppn, refsLeft, icount: 0, vcpu: 0, rip: 0n });
  }

  // --- ScanHost ---

  vms(): readonly ScanVm[] {
    return this.vmList;
  }

  eligiblePage(vmId: number, ppn: number, out: FrameWords): boolean {
    this.calls.eligible++;
    const pages = this.pagesOf.get(vmId);
    if (!pages || ppn < 0 || ppn >= pages.length) return false;
    const p = pages[ppn];
    if (p.state !== 'private' || !p.bytes) return false;
    pointAt(p.bytes, out);
    return true;
  }

  frameWords(mpn: number, out: FrameWords): void {
    pointAt(this.frameBytes(mpn), out);
  }

  /** Shared frame mpn's bytes (tests write into them behind the table's back). */
  frameBytes(mpn: number): Uint8Array {
    return this.frames.get(mpn)!.bytes;
  }

  sharedRefs(mpn: number): number {
    return this.frames.get(mpn)?.refs ?? 0;
  }

  createShared(vmId: number, ppn: number): number {
    this.calls.createShared++;
    if (this.refuse.has(`${vmId}:${ppn}`)) return -1;
    const p = this.page(vmId, ppn);
    const mpn = this.nextMpn++;
    this.frames.set(mpn, { bytes: p.bytes!, refs: 1 });
    p.state = 'shared';
    p.mpn = mpn;
    p.bytes = null;
    return mpn;
  }

  shareWith(vmId: number, ppn: number, mpn: number): boolean {
    this.calls.shareWith++;
    if (this.refuse.has(`${vmId}:${ppn}`)) return false;
    const p = this.page(vmId, ppn);
    if (p.state !== 'private') throw new Error(`shareWith of a ${p.state} page`);
    const f = this.frames.get(mpn)!;
    for (let i = 0; i < PAGE_SIZE; i++) if (f.bytes[i] !== p.bytes![i]) throw new Error('shareWith of a page with other contents');
    f.refs++;
    p.state = 'shared';
    p.mpn = mpn;
    p.bytes = null;
    return true;
  }

  // --- internals ---

  private page(vmId: number, ppn: number): FakePage {
    const p = this.pagesOf.get(vmId)?.[ppn];
    if (!p) throw new Error(`no page ${ppn} in VM ${vmId}`);
    return p;
  }

  private dropRef(mpn: number): number {
    const f = this.frames.get(mpn)!;
    f.refs--;
    if (f.refs === 0) this.frames.delete(mpn);
    return f.refs;
  }
}

/** Points `out` at a page's bytes as words (a view on the same buffer: later writes show). */
function pointAt(bytes: Uint8Array, out: FrameWords): void {
  const w = pageWords(bytes);
  out.words = w.words;
  out.at = w.at;
}

/** A page filled from a seed by the engine's seeded generator (distinct seeds: distinct pages). */
export function pageFrom(seed: number): Uint8Array {
  const next = seededU32(seed);
  const words = new Uint32Array(PAGE_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer);
}
