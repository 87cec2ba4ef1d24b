// The overcommit benchmark's guest (bench/overcommit.ts): bare metal, 4-level paging, touches
// `pages` distinct 4 KiB pages of a large guest once each, then re-reads a hot subset. What it
// leaves in memory is chosen so every overcommit mechanism has something to do:
//   page i, i mod 4 = 0, 1 — read only: the guest sees zeros; the VMM backs it with a frame all
//                            the same (a zero page: what the sharing scanner maps to the zero frame)
//   page i, i mod 4 = 2    — one qword = i: identical in every VM running this guest (sharable across VMs)
//   page i, i mod 4 = 3    — one qword = i | tag << 32: unique to this VM (only swapping reclaims it)
// Layout (guest-physical = guest-virtual):
//   0x000000–0x1fffff  one 2 MiB page: code at 0x1000, stack below 0x8000, PML4/PDPT/PD at 0x10000
//   0x200000–0x3fffff  the page tables of the data region (up to 512: 1 GiB − 4 MiB of data)
//   0x400000 …         the data region, page i at 0x400000 + i·4 KiB, mapped by 4 KiB PTEs
// The PTEs are written with paging off, as a boot loader would: the guest's own tables are
// ⌈pages/512⌉ + 3 pages it writes, under every mode.
import { enterLongMode } from './longMode';

export const DATA_BASE = 0x400000;
/** Largest region: the page tables fit 0x200000–0x3fffff and the data 4 MiB–1 GiB. */
export const MAX_BENCH_PAGES = (0x40000000 - DATA_BASE) / 4096;

export interface ManyPagesGuest {
  /** Distinct data pages touched (≥ 1, ≤ MAX_BENCH_PAGES). */
  pages: number;
  /** Makes the unique quarter of the pages differ between VMs (0 … 2^31-1). */
  tag: number;
  /** Pages re-read after the first pass (from page 0; default pages / 8), `hotPasses` times (default 2). */
  hotPages?: number;
  hotPasses?: number;
}

/** Guest pages the program touches in all: the data region, its page tables, the code page, PML4/PDPT/PD. */
export function touchedGuestPages(g: Pick<ManyPagesGuest, 'pages'>): number {
  return g.pages + Math.ceil(g.pages / 512) + 4;
}

/** Of those, the pages it writes (the rest it only reads: zero pages): the tables, the code, and half the data. */
export function writtenGuestPages(g: Pick<ManyPagesGuest, 'pages'>): number {
  let data = 0;
  for (const k of [2, 3]) data += g.pages > k ? Math.floor((g.pages - 1 - k) / 4) + 1 : 0;
  return data + Math.ceil(g.pages / 512) + 4;
}

export function manyPagesGuestSource(g: ManyPagesGuest): string {
  if (!(Number.isInteger(g.pages) && g.pages >= 1 && g.pages <= MAX_BENCH_PAGES)) throw new RangeError(`pages must be 1 … ${MAX_BENCH_PAGES}, not ${g.pages}`);
  if (!(Number.isInteger(g.tag) && g.tag >= 0 && g.tag < 2 ** 31)) throw new RangeError(`tag must be 0 … 2^31-1, not ${g.tag}`);
  const hot = Math.min(g.pages, g.hotPages ?? Math.max(1, Math.floor(g.pages / 8)));
  const passes = g.hotPasses ?? 2;
  return `
.equ PML4, 0x10000
.equ PDPT, 0x11000
.equ PD,   0x12000
.equ PTS,  0x200000
.equ DATA, ${DATA_BASE}
.equ PAGES, ${g.pages}
.equ HOT, ${hot}
.equ PASSES, ${passes}
.org 0x1000
.entry _start
_start:
    mov esp, 0x8000
    mov qword [PML4], PDPT | 3
    mov qword [PDPT], PD | 3
    mov qword [PD], 0x83                ; 0–2 MiB: one large page (code, stack, top tables)
    xor ecx, ecx
.pde:                                   ; PD[2 + k] = PTS + k·4 KiB
    mov rax, rcx
    shl rax, 12
    add rax, PTS | 3
    mov [PD + 16 + rcx*8], rax
    inc ecx
    cmp ecx, (PAGES + 511) / 512
    jb .pde
    xor ecx, ecx
.pte:                                   ; PTE i = DATA + i·4 KiB, present, writable
    mov rax, rcx
    shl rax, 12
    add rax, DATA | 3
    mov [PTS + rcx*8], rax
    inc ecx
    cmp ecx, PAGES
    jb .pte
${enterLongMode('PML4')}
    mov rdx, ${g.tag}
    shl rdx, 32                         ; the VM's tag in the high half
    mov rsi, DATA
    xor ecx, ecx
touch:
    mov eax, ecx
    and eax, 3
    cmp eax, 2
    jb .read                            ; 0, 1: read only (a zero page)
    mov rax, rcx
    je .store                           ; 2: the page index, the same in every VM
    or rax, rdx                         ; 3: tagged, unique to this VM
.store:
    mov [rsi], rax
    jmp .next
.read:
    mov rax, [rsi]
.next:
    add rsi, 4096
    inc ecx
    cmp ecx, PAGES
    jb touch
    mov edi, PASSES
hot_pass:                               ; the working set: the first HOT pages, read again
    mov rsi, DATA
    mov ecx, HOT
.hot:
    mov rax, [rsi]
    add rsi, 4096
    dec ecx
    jnz .hot
    dec edi
    jnz hot_pass
    mov al, 0
    out 0xf4, al
`;
}
