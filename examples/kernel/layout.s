; layout.s — every fixed number the teaching kernel uses, in one place.
;
; Guest-physical memory (64 MiB by default):
;   0x0001_0000  kernel code and data (this file's .org)
;   0x0008_0000  kernel stack (grows down from KSTACK_TOP); user traps land here via RSP0
;   0x0010_0000  page tables, 64 KiB per process (PT_AREA + index * PT_AREA_STRIDE)
;   0x0020_0000  free frames for demand paging and the map syscall (FRAME_POOL..FRAME_POOL_END)
;   0x007f_0000  the user library page, shared read-only by every process (ULIB_PHYS)
;   0x0080_0000  process A's image, 0x0090_0000 process B's image (USER_IMAGE + index * 1 MiB)
; The kernel maps guest-physical 0..4 MiB 1:1 at the same virtual addresses, supervisor-only,
; so it can write page tables and zero frames through ordinary pointers.
;
; Every process sees the same user window 0x40_0000..0x60_0000 (one page table's worth):
;   0x40_0000  its code and data (USER_CODE_PAGES pages, private, writable)
;   0x41_0000  the user library (shared, read-only)
;   0x50_0000  heap: demand-paged, HEAP_PAGES pages
;   0x5f_0000  stack: demand-paged, grows down from USER_STACK_TOP
; Anything else in the window (or outside it) is a segmentation fault.

; --- configuration an example may set before including the kernel ---
.ifndef NPROC
.equ NPROC, 1                   ; processes to start: 1 (A) or 2 (A and B)
.endif
.ifndef TIMER_PERIOD
.equ TIMER_PERIOD, 2000         ; instructions between timer interrupts (scheduler ticks)
.endif
.ifndef USER_IMAGE
.equ USER_IMAGE, 0x800000       ; guest-physical address of process A's image
.endif
.ifndef ULIB_PHYS
.equ ULIB_PHYS, 0x7f0000        ; guest-physical address of the user library page
.endif
.ifndef FRAME_POOL_PAGES
.equ FRAME_POOL_PAGES, 512      ; frames the allocator manages: "the guest's memory" (at most 512)
.endif
; The balloon driver (balloon.s, docs/overcommit/balloon.md):
.ifndef BALLOON
.equ BALLOON, 0                 ; 1: load the balloon driver
.endif
.ifndef BALLOON_DISABLED
.equ BALLOON_DISABLED, 0        ; 1: the driver loads but is disabled by the administrator
.endif
.ifndef BALLOON_LOAD_DELAY
.equ BALLOON_LOAD_DELAY, 0      ; seconds after boot before the driver loads (0: at boot)
.endif
.ifndef BALLOON_MAX_PERCENT
.equ BALLOON_MAX_PERCENT, 65    ; the guest's cap on the balloon, % of its memory (ESX Mem.CtlMaxPercent)
.endif
; The guest's own swapper (swap.s, docs/overcommit/guest-swap.md):
.ifndef GUEST_SWAP
.equ GUEST_SWAP, 0              ; 1: when the allocator runs dry, page user pages out to the guest disk
.endif
.ifndef SWAP_SLOTS
.equ SWAP_SLOTS, 1024           ; slots of the guest disk the swapper uses (at most the disk's size)
.endif

; --- kernel placement ---
.equ KERNEL_BASE, 0x10000
.equ KSTACK_TOP, 0x90000
.equ PT_AREA, 0x100000
.equ PT_AREA_STRIDE, 0x10000
.equ FRAME_POOL, 0x200000
.equ FRAME_POOL_END, FRAME_POOL + FRAME_POOL_PAGES * 0x1000
.if FRAME_POOL_PAGES < 1 || FRAME_POOL_END > 0x400000
.error "FRAME_POOL_PAGES must be 1..512: the pool lies in the kernel's 1:1 map below 4 MiB"
.endif
.equ USER_IMAGE_STRIDE, 0x100000
.equ PAGE_SIZE, 0x1000

; --- the user window ---
.equ USER_BASE, 0x400000
.equ USER_TOP, 0x600000
.equ USER_CODE, 0x400000
.equ USER_CODE_PAGES, 4
.equ ULIB_VA, 0x410000
.equ HEAP_BASE, 0x500000
.equ HEAP_PAGES, 128
.equ HEAP_END, HEAP_BASE + HEAP_PAGES * PAGE_SIZE
.equ STACK_BASE, 0x5f0000
.equ USER_STACK_TOP, 0x600000

; --- page-table entry bits (the same low 12 bits in 32-bit and 4-level paging) ---
.equ PTE_P, 0x1                 ; present
.equ PTE_RW, 0x2                ; writable
.equ PTE_US, 0x4                ; user may access
.equ PTE_A, 0x20                 ; accessed: the MMU sets it on a walk that uses the entry
.equ PTE_PS, 0x80               ; large page (in a directory entry)
.equ PTE_SWAPPED, 0x200         ; software bit 9 in a NOT-present PTE: the page is on the guest disk,
                                ; its slot in bits 12 and up (as Linux keeps a swap entry in the PTE)
.equ PTE_USER_RW, PTE_P | PTE_RW | PTE_US
.equ PTE_USER_RO, PTE_P | PTE_US
.equ PTE_KERNEL_LARGE, PTE_P | PTE_RW | PTE_PS   ; supervisor-only: user code cannot touch it

; --- #PF error code bits ---
.equ PF_PRESENT, 0x1            ; 0: the page was not present; 1: a protection violation
.equ PF_WRITE, 0x2
.equ PF_USER, 0x4

; --- control registers, MSRs, ports (docs/machine.md) ---
.equ CR0_PE_ET, 0x11
.equ CR0_PG, 0x80000000
.equ CR4_PSE, 0x10
.equ CR4_PAE, 0x20
.equ MSR_EFER, 0xc0000080
.equ EFER_LME, 0x100
.equ MSR_RSP0, 0x40000100
.equ MSR_TIMER_PERIOD, 0x40000101
.equ PORT_CONSOLE, 0xe9
.equ PORT_EXIT, 0xf4

; --- time: a simulated second is CYCLES_PER_SECOND cycles (the machine's 1 MHz clock); the timer
; ticks every TIMER_PERIOD instructions, so the kernel counts HZ ticks to a second (Linux's jiffies).
; Time the VM spends waiting (stall cycles) is not seen by its timer: the guest's seconds are
; seconds of its own running. ---
.equ CYCLES_PER_SECOND, 1000000
.equ HZ, CYCLES_PER_SECOND / TIMER_PERIOD

; --- selectors the CPU pushes and iretq checks ---
.equ USER_CS, 0x1b
.equ USER_SS, 0x23
.equ USER_RFLAGS, 0x202         ; IF=1: user code is always interruptible by the timer

; --- vectors and IDT gate types ---
.equ VEC_PF, 14
.equ VEC_TIMER, 32
.equ VEC_SYSCALL, 0x80
.equ GATE_KERNEL, 0x8e          ; interrupt gate, DPL 0: only the CPU and the timer may use it
.equ GATE_USER, 0xee            ; interrupt gate, DPL 3: user code may `int 0x80`

; --- system call numbers (rax) and flags ---
.equ SYS_EXIT, 0                ; rdi = status
.equ SYS_WRITE, 1               ; rdi = buffer, rsi = length
.equ SYS_MAP, 2                 ; rdi = page address → rax = 0, or -1
.equ SYS_UNMAP, 3               ; rdi = page address, rsi = flags → rax = 0, or -1
.equ SYS_YIELD, 4               ; give the CPU to the next process
.equ UNMAP_SLOPPY, 1            ; unmap flag: skip INVLPG (a deliberate bug, see sloppy-tlb)
.equ UNMAP_FREE, 2              ; unmap flag: give the frame (or swap slot) back to the kernel

; --- the trap frame: what trap_common leaves on the kernel stack, lowest address first ---
.equ TF_R15, 0
.equ TF_R14, 8
.equ TF_R13, 16
.equ TF_R12, 24
.equ TF_R11, 32
.equ TF_R10, 40
.equ TF_R9, 48
.equ TF_R8, 56
.equ TF_RBP, 64
.equ TF_RDI, 72
.equ TF_RSI, 80
.equ TF_RDX, 88
.equ TF_RCX, 96
.equ TF_RBX, 104
.equ TF_RAX, 112
.equ TF_VECTOR, 120             ; pushed by the entry stub
.equ TF_ERROR, 128              ; pushed by the CPU, or a 0 by the stub
.equ TF_RIP, 136                ; the CPU's interrupt frame from here up
.equ TF_CS, 144
.equ TF_RFLAGS, 152
.equ TF_RSP, 160
.equ TF_SS, 168
.equ TF_SIZE, 176
.equ TF_QWORDS, TF_SIZE / 8
; A trap from user mode always starts at KSTACK_TOP (RSP0), so its frame is always here:
.equ TRAP_FRAME, KSTACK_TOP - TF_SIZE

; --- a process table entry ---
.equ P_STATE, 0                 ; PROC_FREE or PROC_RUNNABLE
.equ P_CR3, 8                   ; its top-level page table
.equ P_PT, 16                   ; its page table for the user window
.equ P_NAME, 24                 ; one letter: 'A', 'B'
.equ P_CONTEXT, 32              ; a saved trap frame (TF_SIZE bytes)
.equ PROC_SIZE, 256
.equ PROC_FREE, 0
.equ PROC_RUNNABLE, 1
