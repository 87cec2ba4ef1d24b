// Small programs reproducing the fidelity bugs the differential test (test/engine/vmm/fidelity)
// found in shadow mode, one per bug, in each paging format (built on programs.ts: identity map
// of the low 4 MiB / 8 MiB through PT0 and PT1, a #PF handler leaving error code in r12 and CR2
// in r13, CR0.WP=0 at the start).
import { layout, program } from './programs';
import type { Format } from './programs';

/** A third leaf table, outside the identity map's tables, hung in PD slot 2 by the programs. */
const PT2 = 0x16000;
/** Second address space's root (4-level PML4, PAE PDPT, 32-bit PD), sharing the first one's tables. */
const ROOT_B = 0x15000;

/** Register name for an entry-sized load (r9 → r9d for 4-byte entries). */
const r = (es: number, n: number): string => (es === 4 ? `r${n}d` : `r${n}`);

/** First gva PT2 maps (PD entry 2). */
export function pt2Base(f: Format): number {
  return 2 * layout(f).pt1Base;
}

function hangPt2(f: Format, entries: [number, string][]): string {
  const { es, size } = layout(f);
  return [
    ...entries.map(([i, v]) => `    mov ${size} [${PT2} + ${i}*${es}], ${v}`),
    `    mov ${size} [PD + 2*${es}], ${PT2} | 7`,
  ].join('\n');
}

/**
 * Bug 1: PT2's entry 5 maps PT2 itself. The first access through it is a store onto PT2's
 * entry 6: the fill that serves it is what starts tracing PT2, so the store must be emulated
 * like any traced store (it once stopped the VM: "fill … did not resolve the fault").
 * r8 = what the remapped page 6 then reads. With `readOnly`, the self-map is read-only and
 * CR0.WP=1: the store is a true #PF (r12 = 3, r13 = the address), as natively.
 */
export function selfMapWrite(f: Format, readOnly: boolean): string {
  const { es, size } = layout(f);
  const v = pt2Base(f);
  return program(f, `
    mov byte [0x40000], 0x11
    mov byte [0x41000], 0x22
${hangPt2(f, [[5, `${PT2} | ${readOnly ? 1 : 3}`], [6, '0x40003']])}
    ${readOnly ? 'mov rax, cr0\n    or eax, 0x10000\n    mov cr0, rax' : ''}
    mov ${size} [${v + 5 * 4096} + 6*${es}], 0x41003
    invlpg [${v + 6 * 4096}]
    movzx r8d, byte [${v + 6 * 4096}]
`);
}

/**
 * Bug 2: a store through a TLB entry that maps a traced frame (PT2, through its self-map),
 * after the guest remapped that entry without INVLPG. Natively the store hits the stale TLB
 * entry: it lands in PT2, and the new PTE gets neither A nor D. r9 = the self-map PTE,
 * r10 = PT2's entry 8, r11 = entry 8 of the new frame.
 */
export function staleTracedWrite(f: Format): string {
  const { es, size } = layout(f);
  const v = pt2Base(f);
  return program(f, `
${hangPt2(f, [[5, `${PT2} | 3`]])}
    mov ${size} [${v + 5 * 4096} + 7*${es}], 0x42003
    mov ${size} [${PT2} + 5*${es}], 0x43003
    mov ${size} [${v + 5 * 4096} + 8*${es}], 0x44003
    mov ${r(es, 9)}, [${PT2} + 5*${es}]
    mov ${r(es, 10)}, [${PT2} + 8*${es}]
    mov ${r(es, 11)}, [0x43000 + 8*${es}]
`);
}

/**
 * Bug 3: two address spaces share a leaf table (PT0) through different directories: the first
 * through PD slot 2, the second through its own directory's slot 2. A page there is read in the
 * first; the guest switches to the second, changes the page's PTE and flushes it properly
 * (INVLPG there, before anything in the second address space went through that slot), reads
 * a neighbour (whose fill links the second root to the shadow page of PT0 the two roots share)
 * and then the page: the new frame, natively — also under unsync, where the INVLPG once
 * resynced only what the current root reached, and the stale spte was found by the hardware
 * walk through the newly linked shared page. r8 = before, r9 = after.
 */
export function sharedTablesInvlpg(f: Format): string {
  const { es, size } = layout(f);
  const pdB = f === '32bit' ? ROOT_B : 0x18000;
  const upper = {
    '4level': `    mov qword [${ROOT_B}], 0x17000 | 7
    mov qword [0x17000], ${pdB} | 7`,
    pae: `    mov qword [${ROOT_B}], ${pdB} | 1`,
    '32bit': '',
  }[f];
  const y = pt2Base(f) + 0x80 * 4096;
  return program(f, `
    mov byte [0x80000], 0x11
    mov byte [0x41000], 0x22
    mov ${size} [PD + 2*${es}], PT0 | 7
${upper}
    mov ${size} [${pdB}], PT0 | 7
    mov ${size} [${pdB} + ${es}], PT1 | 7
    mov ${size} [${pdB} + 2*${es}], PT0 | 7
    movzx r8d, byte [${y}]
    mov rax, ${ROOT_B}
    mov cr3, rax
    mov ${size} [PT0 + 0x80*${es}], 0x41003
    invlpg [${y}]
    movzx eax, byte [${y + 4096}]
    movzx r9d, byte [${y}]
`);
}
