// Reference counts of the machine frames that content-based page sharing maps into guests
// (FrameUse 'shared', owner VMM_OWNER). One table for the whole machine: a shared frame may
// back pages of several VMs. As in ESX, the count is 16 bits per frame; the rare frame
// referenced more than 65,534 times (the zero page of a large host) keeps its count in a
// small overflow table, the 16-bit field saying "look there" (0xffff).
//
// Who holds a reference: each p2m entry in state 'shared' pointing at the frame — nothing
// else. The audit checks that equality. A frame whose last reference goes is freed at once.
import type { MachineMemory } from '../machine/machineMemory';
import { VMM_OWNER } from '../machine/frameTable';
import { PAGE_SIZE } from '../memory/frame';

/** The 16-bit field's value meaning "the count is in the overflow table". */
export const REFCOUNT_OVERFLOW = 0xffff;

export class SharedFrames {
  private readonly counts: Uint16Array;
  private readonly overflow = new Map<number, number>();
  /** Shared frames that exist now. */
  private frames = 0;
  /** References over all shared frames now (= guest pages backed by a shared frame). */
  private refsTotal = 0;

  constructor(private readonly machine: MachineMemory) {
    this.counts = new Uint16Array(machine.frames.total);
  }

  /** Shared frames in use. */
  get count(): number {
    return this.frames;
  }

  /** Guest pages mapped to shared frames (all VMs). */
  get references(): number {
    return this.refsTotal;
  }

  /** Counts kept in the overflow table (frames past 65,534 references). */
  get overflowed(): number {
    return this.overflow.size;
  }

  isShared(mpn: number): boolean {
    return mpn >= 0 && mpn < this.counts.length && this.machine.frames.useOf(mpn) === 'shared' && this.machine.frames.ownerOf(mpn) === VMM_OWNER;
  }

  refs(mpn: number): number {
    const c = this.counts[mpn];
    return c === REFCOUNT_OVERFLOW ? this.overflow.get(mpn) ?? 0 : c;
  }

  private setRefs(mpn: number, n: number): void {
    if (n >= REFCOUNT_OVERFLOW) {
      this.counts[mpn] = REFCOUNT_OVERFLOW;
      this.overflow.set(mpn, n);
    } else {
      this.counts[mpn] = n;
      this.overflow.delete(mpn);
    }
  }

  /**
   * A new shared frame holding a copy of frame `fromMpn` (a guest page, or a page of zeros
   * built by the caller), with no references yet: the caller maps pages to it with
   * P2m.shareWith, and drops it with dropIfUnused if none was mapped. -1 when machine memory is
   * exhausted (prefer P2m.shareInPlace then: it needs no free frame).
   */
  createShared(fromMpn: number): number {
    const mpn = this.machine.frames.allocate(VMM_OWNER, 'shared');
    if (mpn === undefined) return -1;
    const b = this.machine.bytes;
    b.zeroFrame(mpn);
    const src = fromMpn >= 0 ? b.peekFrame(fromMpn) : undefined;
    if (src) {
      const dst = b.frameForWrite(mpn)!;
      dst.data.set(src.data);
      dst.decoded = null;
    }
    this.setRefs(mpn, 0);
    this.frames++;
    return mpn;
  }

  /** Makes a guest frame the shared frame in place (its one reference is the caller's page): P2m.shareInPlace. */
  adopt(mpn: number): void {
    this.machine.frames.release(mpn);
    if (!this.machine.frames.allocateAt(mpn, VMM_OWNER, 'shared')) throw new Error(`internal: frame ${mpn} just released cannot be re-taken as shared`);
    this.setRefs(mpn, 1);
    this.frames++;
    this.refsTotal++;
  }

  /**
   * The last reference's page writes (COW break with refcount 1): the frame becomes that page's
   * own again, as KSM reuses a page nobody else maps — no copy, no free frame needed.
   */
  disown(mpn: number, owner: number, ppn: number): void {
    if (!this.isShared(mpn) || this.refs(mpn) !== 1) throw new Error(`shared frame 0x${mpn.toString(16)} has ${this.refs(mpn)} references: it cannot become a private frame`);
    this.setRefs(mpn, 0);
    this.frames--;
    this.refsTotal--;
    this.machine.frames.release(mpn);
    if (!this.machine.frames.allocateAt(mpn, owner, 'guest-data', ppn)) throw new Error(`internal: frame ${mpn} just released cannot be re-taken`);
  }

  /** One more guest page maps the frame; returns the new count. */
  addRef(mpn: number): number {
    if (!this.isShared(mpn)) throw new Error(`machine frame 0x${mpn.toString(16)} is not a shared frame`);
    const n = this.refs(mpn) + 1;
    this.setRefs(mpn, n);
    this.refsTotal++;
    return n;
  }

  /** One guest page stops mapping the frame (COW break, swap, balloon, VM end); the last reference frees it. Returns the references left. */
  release(mpn: number): number {
    if (!this.isShared(mpn)) throw new Error(`machine frame 0x${mpn.toString(16)} is not a shared frame`);
    const n = this.refs(mpn) - 1;
    if (n < 0) throw new Error(`shared frame 0x${mpn.toString(16)} released more often than referenced`);
    this.refsTotal--;
    if (n === 0) this.free(mpn);
    else this.setRefs(mpn, n);
    return n;
  }

  /** Frees a frame createShared made that no page ended up mapping; false if it has references. */
  dropIfUnused(mpn: number): boolean {
    if (!this.isShared(mpn) || this.refs(mpn) > 0) return false;
    this.free(mpn);
    return true;
  }

  private free(mpn: number): void {
    this.setRefs(mpn, 0);
    this.frames--;
    this.machine.release(mpn);
  }

  /** Whether the shared frame holds only zeros (the "zero page"). */
  isZero(mpn: number): boolean {
    const f = this.machine.bytes.peekFrame(mpn);
    if (!f) return true;
    const d = f.data;
    for (let i = 0; i < PAGE_SIZE; i++) if (d[i] !== 0) return false;
    return true;
  }

  /** Every shared frame and its count (ascending): for the audit and the views. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    const t = this.machine.frames;
    for (let f = 0; f < t.total; f++) if (t.useOf(f) === 'shared' && t.ownerOf(f) === VMM_OWNER) out.push([f, this.refs(f)]);
    return out;
  }
}
