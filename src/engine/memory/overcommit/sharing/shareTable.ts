// The machine's one page-sharing table (ESX, Waldspurger 2002 §4.2): content hash → chain of
// frames, global across every VM so that identical VMs find each other's pages. Two kinds of
// frame share one 16-byte record:
//   shared frame — hash, MPN, reference count, chain link: a machine page several guest pages
//                  map copy-on-write;
//   hint frame   — a truncated hash and a back-reference (VM id, PPN): a page that matched
//                  nothing when scanned. It is NOT made copy-on-write (the guest keeps writing
//                  it for free); when a later page matches it, its page is rehashed, and only
//                  if it is unchanged are both pages compared and shared.
// A hash match only nominates: every share follows a full byte compare, and a page whose hash
// matches a frame with other contents ("false match") is simply not shared, and counted.
//
// Record layout (Uint32Array, 4 words per slot; docs/overcommit/sharing.md has the table):
//   w0  hash bits 0–31                                     (both kinds)
//   w1  shared: hash bits 32–63
//       hint:   hash bits 32–39 | vmId << 8 (16 bits) | ppn bits 24–31 << 24
//   w2  bits 0–23: MPN (shared) / PPN bits 0–23 (hint);  bits 24–31: refcount bits 0–7
//   w3  bits 0–23: chain link (slot + 1; 0 ends the chain); bits 24–31: refcount bits 8–15
// Refcount 0 marks a hint (a shared frame always has a reference); 0xFFFF means the count lives
// in the overflow table (the zero page of a large VM alone passes 65535).
import type { FrameWords, Hash64 } from './pageHash';
import { ZERO_PAGE_WORDS, hashWords, isZeroWords, sameWords } from './pageHash';

export const FRAME_BYTES = 16;
const WORDS = FRAME_BYTES / 4;
const MASK24 = 0xffffff;
/** Largest machine page number a shared frame can name (24 bits: 64 GiB of machine memory). */
export const MAX_MPN = MASK24;
/** Slots are numbered 0 … MAX_SLOTS-1 (the link stores slot + 1 in 24 bits). */
export const MAX_SLOTS = MASK24;
export const MAX_VM_ID = 0xffff;
const REF_OVERFLOW = 0xffff;
/** Bits of the hash a hint frame keeps. */
export const HINT_HASH_BITS = 40;

/**
 * What the table needs from the hypervisor: page contents and the p2m/shared-frame operations.
 * Contents are handed over as words in place (FrameWords: the slab a frame lives in and where),
 * written into an object the table owns: no view or copy per page. A frame never written is
 * ZERO_PAGE_WORDS at 0.
 */
export interface SharingHost {
  /**
   * Whether guest page (vmId, ppn) is a candidate for sharing right now — resident, private, not
   * a guest page table, not pinned — and if so, points `out` at its contents. false: the page
   * left since it was hinted (out is left as it was).
   */
  eligiblePage(vmId: number, ppn: number, out: FrameWords): boolean;
  /** Points `out` at the contents of machine frame mpn. */
  frameWords(mpn: number, out: FrameWords): void;
  /** References the p2ms hold on shared frame mpn; 0 when it is no longer a shared frame. */
  sharedRefs(mpn: number): number;
  /**
   * Turns page (vmId, ppn) into a shared frame that this page maps (one reference) and returns
   * its MPN; -1 if that is impossible (e.g. no machine frame for the copy).
   */
  createShared(vmId: number, ppn: number): number;
  /**
   * Remaps (vmId, ppn), whose contents equal frame mpn's, to it (p2m.shareWith): one more
   * reference. false if the page may not be shared (the p2m says why).
   */
  shareWith(vmId: number, ppn: number, mpn: number): boolean;
}

/** Hashes the page words[at … at+1023] into out (pageHash.ts hashWords; tests pass a tiny one to force collisions). */
export type PageHashFn = (words: Int32Array, at: number, out: Hash64) => Hash64;

/** A guest page that has just been remapped to a shared frame. */
export interface SharedPage {
  vmId: number;
  ppn: number;
}

export type OfferResult =
  | { outcome: 'ineligible' }
  /** Mapped to a shared frame (created now, from a hint or as the zero frame, or found). */
  | { outcome: 'shared'; mpn: number; refs: number; zero: boolean; created: boolean; pages: SharedPage[] }
  /** No match: the page is (still) a hint. */
  | { outcome: 'hinted' }
  /** A frame with the same hash holds other contents: not shared. */
  | { outcome: 'false-match' }
  /** The contents matched but the hypervisor refused to share (no frame, the mode forbids it). */
  | { outcome: 'refused' };

export interface ShareTableCounters {
  /** Shared frames made (from a hint pair or as the zero frame). */
  framesCreated: number;
  /** Guest pages remapped to a shared frame. */
  pagesMerged: number;
  /** Hash matches whose full compare failed. */
  falseMatches: number;
  /** Hints dropped because their page had changed when rehashed (KSM: pages_volatile). */
  volatileHints: number;
  /** Hints dropped because their page was no longer a private resident page. */
  departedHints: number;
  /** Shared frames dropped from the table because their last reference went. */
  framesReleased: number;
}

export interface ShareTableOptions {
  hash?: PageHashFn;
  /** Initial slots (grows by doubling up to MAX_SLOTS). */
  initialSlots?: number;
}

/** One frame of the table, decoded (for views, tests and the audit). */
export type TableFrame =
  | { kind: 'shared'; slot: number; hash: Hash64; mpn: number; refs: number }
  | { kind: 'hint'; slot: number; hashLow40: Hash64; vmId: number; ppn: number };

/** One object for every ineligible offer: the scanner draws many pages with no frame, and this is its hot path. */
const INELIGIBLE: OfferResult = Object.freeze({ outcome: 'ineligible' });
/** Likewise for the most common outcome of a hashed page, a unique one. */
const HINTED: OfferResult = Object.freeze({ outcome: 'hinted' });

export class ShareTable {
  private words: Uint32Array;
  private heads: Int32Array;
  private bucketMask: number;
  /** Head of the free-slot list (slot + 1, linked through w3), 0 when empty. */
  private freeHead = 0;
  /** Slots ever handed out: slots ≥ top are untouched. */
  private top = 0;
  private liveShared = 0;
  private liveHints = 0;
  private readonly overflow = new Map<number, number>();
  private readonly slotOfMpn = new Map<number, number>();
  /** vmId → ppn → slot of the page's hint (a page has at most one). */
  private readonly hintSlots = new Map<number, Map<number, number>>();
  private zeroMpn = -1;
  private readonly hash: PageHashFn;
  /** The hash of a page of zeros under this table's hash function. */
  private readonly zeroHash: Hash64;
  private readonly h: Hash64 = { hi: 0, lo: 0 };
  private readonly h2: Hash64 = { hi: 0, lo: 0 };
  /** Where the offered page, a hint's page and a shared frame are (filled by the host). */
  private readonly page: FrameWords = { words: ZERO_PAGE_WORDS, at: 0 };
  private readonly other: FrameWords = { words: ZERO_PAGE_WORDS, at: 0 };
  private readonly frame: FrameWords = { words: ZERO_PAGE_WORDS, at: 0 };
  readonly counters: ShareTableCounters = { framesCreated: 0, pagesMerged: 0, falseMatches: 0, volatileHints: 0, departedHints: 0, framesReleased: 0 };

  constructor(
    private readonly host: SharingHost,
    options: ShareTableOptions = {},
  ) {
    this.hash = options.hash ?? hashWords;
    this.zeroHash = this.hash(ZERO_PAGE_WORDS, 0, { hi: 0, lo: 0 });
    const slots = Math.max(16, 2 ** Math.ceil(Math.log2(options.initialSlots ?? 1024)));
    this.words = new Uint32Array(Math.min(slots, MAX_SLOTS) * WORDS);
    this.heads = new Int32Array(slots);
    this.bucketMask = slots - 1;
  }

  /** Shared frames in the table (KSM: pages_shared). */
  get sharedFrames(): number {
    return this.liveShared;
  }

  /** Hint frames in the table (KSM: pages_unshared). */
  get hintFrames(): number {
    return this.liveHints;
  }

  /** Extra mappings of shared frames, i.e. machine pages saved (KSM: pages_sharing). */
  get pagesSharing(): number {
    let n = 0;
    for (const slot of this.slotOfMpn.values()) n += this.refsAt(slot) - 1;
    return n;
  }

  /** The zero frame's MPN, -1 until a zero page has been shared. */
  get zeroFrame(): number {
    return this.zeroMpn;
  }

  /** Guest pages mapping the zero frame (KSM: ksm_zero_pages). */
  get zeroPages(): number {
    const s = this.zeroMpn >= 0 ? this.slotOfMpn.get(this.zeroMpn) : undefined;
    return s === undefined ? 0 : this.refsAt(s);
  }

  /** Bytes the table occupies: the records, the bucket heads and the overflow entries. */
  get bytes(): number {
    return this.words.byteLength + this.heads.byteLength + this.overflow.size * 8;
  }

  refsOf(mpn: number): number {
    const s = this.slotOfMpn.get(mpn);
    return s === undefined ? 0 : this.refsAt(s);
  }

  isHinted(vmId: number, ppn: number): boolean {
    return this.hintSlots.get(vmId)?.has(ppn) ?? false;
  }

  /**
   * Offers guest page (vmId, ppn) for sharing: ESX's algorithm. Match a shared frame → share;
   * match a hint → rehash its page (changed: drop the hint; same: compare, make a shared frame
   * from it, share both); a page of zeros goes straight to the zero frame; else it becomes a hint.
   */
  offer(vmId: number, ppn: number): OfferResult {
    if (vmId < 0 || vmId > MAX_VM_ID) throw new RangeError(`VM id ${vmId} does not fit a hint frame (16 bits)`);
    const page = this.page;
    if (!this.host.eligiblePage(vmId, ppn, page)) return INELIGIBLE;
    // Zero pages first: the test stops at the first non-zero word (nearly free for any other
    // page; one comparison for a frame never written), and a page of zeros needs no hashing —
    // its hash is the zero page's, known already — nor a second compare against the zero frame.
    // Zero pages are the common case of sharing.
    const zero = isZeroWords(page.words, page.at);
    let h = this.h;
    if (zero) {
      h.lo = this.zeroHash.lo;
      h.hi = this.zeroHash.hi;
    } else h = this.hash(page.words, page.at, h);
    const bucket = h.lo & this.bucketMask;
    // A false match does not end the walk (another frame with this hash may hold the same
    // contents) but, if nothing matches, the page stays out of the table: ESX makes it ineligible.
    let falseMatch = false;

    // 1. Shared frames with this hash.
    for (let s = this.heads[bucket] - 1; s >= 0; ) {
      const next = this.linkAt(s) - 1;
      if (this.refField(s) !== 0 && this.words[s * WORDS] === h.lo >>> 0 && this.words[s * WORDS + 1] === h.hi >>> 0) {
        const mpn = this.words[s * WORDS + 2] & MASK24;
        if (this.host.sharedRefs(mpn) === 0) {
          // Its last reference went without the table being told: a stale record.
          this.removeSlot(s);
          this.counters.framesReleased++;
        } else if (mpn === this.zeroMpn ? zero : this.sameAsFrame(page, mpn)) {
          if (!this.host.shareWith(vmId, ppn, mpn)) return { outcome: 'refused' };
          this.dropHintOf(vmId, ppn);
          const refs = this.host.sharedRefs(mpn);
          this.setRefs(s, refs);
          this.counters.pagesMerged++;
          return { outcome: 'shared', mpn, refs, zero: mpn === this.zeroMpn, created: false, pages: [{ vmId, ppn }] };
        } else {
          this.counters.falseMatches++;
          falseMatch = true;
        }
      }
      s = next;
    }

    // 2. Hints with this (truncated) hash, other than the page's own — which, met here, says
    // the page is unchanged since its hint was made (the steady state of a unique page).
    const lo = h.lo >>> 0;
    const hiByte = h.hi & 0xff;
    let ownHint = false;
    for (let s = this.heads[bucket] - 1; s >= 0; ) {
      const next = this.linkAt(s) - 1;
      if (this.refField(s) === 0 && this.words[s * WORDS] === lo && (this.words[s * WORDS + 1] & 0xff) === hiByte) {
        const hv = this.hintVm(s);
        const hp = this.hintPpn(s);
        if (hv !== vmId || hp !== ppn) {
          const r = this.tryHint(s, hv, hp, page, h, vmId, ppn);
          if (r === 'false-match') falseMatch = true;
          else if (r) return r;
        } else ownHint = true;
      }
      s = next;
    }

    if (falseMatch) return { outcome: 'false-match' };

    // 3. Zero pages share the zero frame directly, no hint stage: the common case.
    if (zero && this.zeroMpn < 0) {
      return this.createFrom(vmId, ppn, h, [], true);
    }

    // 4. Unique so far: a hint (kept if the page's hint already says this: found in the chain).
    if (ownHint) return HINTED;
    const own = this.hintSlots.get(vmId)?.get(ppn);
    if (own !== undefined) {
      // Rescanned with other contents (a hint with these would be in this chain): the old hint
      // is stale (KSM counts such pages volatile).
      this.removeSlot(own);
      this.counters.volatileHints++;
    }
    this.insertHint(h, vmId, ppn);
    return HINTED;
  }

  /**
   * A shared frame lost references outside the table (COW break, VM destroyed, page ballooned):
   * `refsLeft` is the count the hypervisor now holds; at 0 the record goes.
   */
  released(mpn: number, refsLeft: number): void {
    const s = this.slotOfMpn.get(mpn);
    if (s === undefined) return;
    if (refsLeft > 0) {
      this.setRefs(s, refsLeft);
      return;
    }
    this.removeSlot(s);
    this.counters.framesReleased++;
  }

  /** Re-reads every shared frame's count from the host (drops frames that are gone). */
  reconcile(): void {
    // Deleting the entry being visited is safe in a Map iteration: no copy of the index.
    for (const [mpn, s] of this.slotOfMpn) {
      const refs = this.host.sharedRefs(mpn);
      if (refs === 0) {
        this.removeSlot(s);
        this.counters.framesReleased++;
      } else if (refs !== this.refsAt(s)) this.setRefs(s, refs);
    }
  }

  /** Drops every hint of a VM (it was destroyed: its PPNs mean nothing any more). */
  forgetVm(vmId: number): void {
    const m = this.hintSlots.get(vmId);
    if (!m) return;
    for (const s of [...m.values()]) this.removeSlot(s);
  }

  /** Every frame, decoded, chain by chain. */
  frames(): TableFrame[] {
    const out: TableFrame[] = [];
    for (let b = 0; b < this.heads.length; b++) {
      for (let s = this.heads[b] - 1; s >= 0; s = this.linkAt(s) - 1) out.push(this.decode(s));
    }
    return out;
  }

  /** Longest chain (collisions of the bucket index; a forced tiny hash makes them long). */
  longestChain(): number {
    let max = 0;
    for (let b = 0; b < this.heads.length; b++) {
      let n = 0;
      for (let s = this.heads[b] - 1; s >= 0; s = this.linkAt(s) - 1) n++;
      max = Math.max(max, n);
    }
    return max;
  }

  /** Invariants: counts match the host's, every record is in the bucket its hash names. */
  audit(): string[] {
    const problems: string[] = [];
    let shared = 0;
    let hints = 0;
    for (let b = 0; b < this.heads.length; b++) {
      for (let s = this.heads[b] - 1; s >= 0; s = this.linkAt(s) - 1) {
        if ((this.words[s * WORDS] & this.bucketMask) !== b) problems.push(`sharing table slot ${s} is chained in bucket ${b}, not the one its hash names`);
        const f = this.decode(s);
        if (f.kind === 'shared') {
          shared++;
          const host = this.host.sharedRefs(f.mpn);
          if (host !== f.refs) problems.push(`shared frame ${f.mpn}: the table counts ${f.refs} references, the hypervisor ${host}`);
          // Mapped read-only everywhere, a shared frame never changes: if it did, some mapping was writable.
          this.host.frameWords(f.mpn, this.frame);
          const now = this.hash(this.frame.words, this.frame.at, { hi: 0, lo: 0 });
          if (now.lo >>> 0 !== f.hash.lo || now.hi >>> 0 !== f.hash.hi) problems.push(`shared frame ${f.mpn} changed since it was shared: a copy-on-write frame was written`);
          if (this.slotOfMpn.get(f.mpn) !== s) problems.push(`shared frame ${f.mpn} is missing from the MPN index`);
        } else {
          hints++;
          if (this.hintSlots.get(f.vmId)?.get(f.ppn) !== s) problems.push(`hint for VM ${f.vmId} page ${f.ppn} is missing from the hint index`);
        }
      }
    }
    if (shared !== this.liveShared || shared !== this.slotOfMpn.size) problems.push(`sharing table: ${shared} shared frames chained, ${this.liveShared} counted, ${this.slotOfMpn.size} indexed`);
    if (hints !== this.liveHints) problems.push(`sharing table: ${hints} hints chained, ${this.liveHints} counted`);
    return problems;
  }

  // --- the hint path ---

  /** Page (vmId, ppn) with contents `page` and hash `h` met hint slot s of (hv, hp). */
  private tryHint(s: number, hv: number, hp: number, page: FrameWords, h: Hash64, vmId: number, ppn: number): OfferResult | 'false-match' | null {
    const other = this.other;
    if (!this.host.eligiblePage(hv, hp, other)) {
      this.removeSlot(s);
      this.counters.departedHints++;
      return null;
    }
    const oh = this.hash(other.words, other.at, this.h2);
    if (oh.lo !== h.lo || oh.hi !== h.hi) {
      // The hint's truncated hash matched ours; does its page still hash to what it stored?
      if (oh.lo >>> 0 !== this.words[s * WORDS] || (oh.hi & 0xff) !== (this.words[s * WORDS + 1] & 0xff)) {
        this.removeSlot(s);
        this.counters.volatileHints++;
      }
      // Unchanged but different beyond the 40 stored bits: a truncated-hash collision; keep it.
      return null;
    }
    if (!sameWords(page.words, page.at, other.words, other.at)) {
      this.counters.falseMatches++;
      return 'false-match';
    }
    this.removeSlot(s);
    return this.createFrom(hv, hp, h, [{ vmId, ppn }], false);
  }

  /**
   * Makes a shared frame of page (vmId, ppn) and maps `others` to it too. Pages the hypervisor
   * refuses stay private; the frame stays shared as long as a page maps it.
   */
  private createFrom(vmId: number, ppn: number, h: Hash64, others: SharedPage[], zero: boolean): OfferResult {
    if (this.liveShared + this.liveHints >= MAX_SLOTS) throw new RangeError(`the sharing table is full (${MAX_SLOTS} frames)`);
    const mpn = this.host.createShared(vmId, ppn);
    if (mpn < 0) return { outcome: 'refused' };
    if (mpn > MAX_MPN) throw new RangeError(`machine page ${mpn} does not fit a shared frame (24 bits)`);
    this.dropHintOf(vmId, ppn);
    // A record left from an earlier life of this machine frame is stale now.
    const old = this.slotOfMpn.get(mpn);
    if (old !== undefined) {
      this.removeSlot(old);
      this.counters.framesReleased++;
    }
    const pages: SharedPage[] = [{ vmId, ppn }];
    for (const p of others) {
      if (!this.host.shareWith(p.vmId, p.ppn, mpn)) continue;
      this.dropHintOf(p.vmId, p.ppn);
      pages.push(p);
    }
    const s = this.allocSlot(h.lo);
    const o = s * WORDS;
    this.words[o] = h.lo >>> 0;
    this.words[o + 1] = h.hi >>> 0;
    this.words[o + 2] = mpn;
    this.words[o + 3] &= MASK24;
    const refs = Math.max(1, this.host.sharedRefs(mpn));
    this.setRefs(s, refs);
    this.slotOfMpn.set(mpn, s);
    this.liveShared++;
    if (zero) this.zeroMpn = mpn;
    this.counters.framesCreated++;
    this.counters.pagesMerged += pages.length;
    return { outcome: 'shared', mpn, refs, zero, created: true, pages };
  }

  private insertHint(h: Hash64, vmId: number, ppn: number): void {
    if (this.liveShared + this.liveHints >= MAX_SLOTS) return; // full: the page just stays unhinted
    const s = this.allocSlot(h.lo);
    const o = s * WORDS;
    this.words[o] = h.lo >>> 0;
    this.words[o + 1] = ((h.hi & 0xff) | (vmId << 8) | ((ppn >>> 24) << 24)) >>> 0;
    this.words[o + 2] = (ppn & MASK24) >>> 0; // refcount bits 0–7 = 0
    this.words[o + 3] &= MASK24; // refcount bits 8–15 = 0
    let m = this.hintSlots.get(vmId);
    if (!m) this.hintSlots.set(vmId, (m = new Map()));
    m.set(ppn, s);
    this.liveHints++;
  }

  private dropHintOf(vmId: number, ppn: number): void {
    const s = this.hintSlots.get(vmId)?.get(ppn);
    if (s !== undefined) this.removeSlot(s);
  }

  /** Does the page hold what shared frame mpn holds? */
  private sameAsFrame(page: FrameWords, mpn: number): boolean {
    this.host.frameWords(mpn, this.frame);
    return sameWords(page.words, page.at, this.frame.words, this.frame.at);
  }

  // --- records ---

  private decode(s: number): TableFrame {
    const o = s * WORDS;
    if (this.refField(s) === 0) {
      return { kind: 'hint', slot: s, hashLow40: { hi: this.words[o + 1] & 0xff, lo: this.words[o] }, vmId: this.hintVm(s), ppn: this.hintPpn(s) };
    }
    return { kind: 'shared', slot: s, hash: { hi: this.words[o + 1], lo: this.words[o] }, mpn: this.words[o + 2] & MASK24, refs: this.refsAt(s) };
  }

  private hintVm(s: number): number {
    return (this.words[s * WORDS + 1] >>> 8) & 0xffff;
  }

  private hintPpn(s: number): number {
    return ((this.words[s * WORDS + 1] >>> 24) * 0x1000000 + (this.words[s * WORDS + 2] & MASK24));
  }

  private linkAt(s: number): number {
    return this.words[s * WORDS + 3] & MASK24;
  }

  private setLink(s: number, link: number): void {
    const o = s * WORDS + 3;
    this.words[o] = ((this.words[o] & ~MASK24) | link) >>> 0;
  }

  /** The 16-bit refcount field (0: hint; 0xFFFF: see the overflow table). */
  private refField(s: number): number {
    const o = s * WORDS;
    return (this.words[o + 2] >>> 24) | ((this.words[o + 3] >>> 24) << 8);
  }

  private refsAt(s: number): number {
    const f = this.refField(s);
    return f === REF_OVERFLOW ? this.overflow.get(s)! : f;
  }

  private setRefs(s: number, refs: number): void {
    const f = refs >= REF_OVERFLOW ? REF_OVERFLOW : refs;
    if (refs >= REF_OVERFLOW) this.overflow.set(s, refs);
    else this.overflow.delete(s);
    const o = s * WORDS;
    this.words[o + 2] = ((this.words[o + 2] & MASK24) | ((f & 0xff) << 24)) >>> 0;
    this.words[o + 3] = ((this.words[o + 3] & MASK24) | ((f >>> 8) << 24)) >>> 0;
  }

  /** A free slot, linked at the head of `hashLo`'s chain. */
  private allocSlot(hashLo: number): number {
    let s: number;
    if (this.freeHead !== 0) {
      s = this.freeHead - 1;
      this.freeHead = this.linkAt(s);
    } else {
      if (this.top * WORDS >= this.words.length) this.growRecords();
      s = this.top++;
    }
    if (this.liveShared + this.liveHints + 1 > this.heads.length) this.growBuckets();
    const b = hashLo & this.bucketMask;
    this.words[s * WORDS + 3] = this.heads[b] >>> 0; // link; refcount bits 8–15 = 0
    this.heads[b] = s + 1;
    return s;
  }

  /** Unchains slot s and puts it on the free list. */
  private removeSlot(s: number): void {
    const o = s * WORDS;
    const b = this.words[o] & this.bucketMask;
    let prev = -1;
    for (let t = this.heads[b] - 1; t !== s; t = this.linkAt(t) - 1) {
      if (t < 0) throw new Error(`sharing table slot ${s} is not in its chain`);
      prev = t;
    }
    const next = this.linkAt(s);
    if (prev < 0) this.heads[b] = next;
    else this.setLink(prev, next);
    if (this.refField(s) === 0) {
      const vm = this.hintVm(s);
      const m = this.hintSlots.get(vm);
      m?.delete(this.hintPpn(s));
      if (m && m.size === 0) this.hintSlots.delete(vm);
      this.liveHints--;
    } else {
      const mpn = this.words[o + 2] & MASK24;
      this.slotOfMpn.delete(mpn);
      if (mpn === this.zeroMpn) this.zeroMpn = -1;
      this.overflow.delete(s);
      this.liveShared--;
    }
    this.words[o] = this.words[o + 1] = this.words[o + 2] = 0;
    this.words[o + 3] = this.freeHead;
    this.freeHead = s + 1;
  }

  private growRecords(): void {
    const slots = this.words.length / WORDS;
    if (slots >= MAX_SLOTS) throw new RangeError(`the sharing table is full (${MAX_SLOTS} frames)`);
    const grown = new Uint32Array(Math.min(slots * 2, MAX_SLOTS) * WORDS);
    grown.set(this.words);
    this.words = grown;
  }

  /** Doubles the buckets (load ≤ 1 frame per bucket), re-chaining every live record. */
  private growBuckets(): void {
    const old = this.heads;
    this.heads = new Int32Array(old.length * 2);
    this.bucketMask = this.heads.length - 1;
    for (let b = 0; b < old.length; b++) {
      for (let s = old[b] - 1; s >= 0; ) {
        const next = this.linkAt(s) - 1;
        const nb = this.words[s * WORDS] & this.bucketMask;
        this.setLink(s, this.heads[nb]);
        this.heads[nb] = s + 1;
        s = next;
      }
    }
  }
}
