// Exception vectors and the SDM's double-fault classification (SDM vol. 3 table 6-5).

export const Vector = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14, MF: 16, AC: 17, MC: 18,
  TIMER: 32,
} as const;

export const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0: '#DE divide error', 1: '#DB debug', 2: 'NMI', 3: '#BP breakpoint', 4: '#OF overflow', 5: '#BR bound',
  6: '#UD invalid opcode', 7: '#NM device not available', 8: '#DF double fault', 10: '#TS invalid TSS',
  11: '#NP segment not present', 12: '#SS stack fault', 13: '#GP general protection', 14: '#PF page fault',
  16: '#MF x87 error', 17: '#AC alignment check', 18: '#MC machine check',
};

export function vectorName(v: number): string {
  return VECTOR_NAMES[v] ?? (v < 32 ? `reserved exception ${v}` : `interrupt ${v}`);
}

/** Exceptions that push an error code. */
export function hasErrorCode(v: number): boolean {
  return v === 8 || v === 10 || v === 11 || v === 12 || v === 13 || v === 14 || v === 17;
}

type FaultClass = 'benign' | 'contributory' | 'page-fault';

function classOf(v: number): FaultClass {
  if (v === 0 || (v >= 10 && v <= 13)) return 'contributory';
  if (v === 14) return 'page-fault';
  return 'benign';
}

/** Does raising `second` while delivering `first` make a #DF (else: handle `second` serially)? */
export function makesDoubleFault(first: number, second: number): boolean {
  const a = classOf(first);
  const b = classOf(second);
  if (a === 'contributory') return b === 'contributory';
  if (a === 'page-fault') return b === 'contributory' || b === 'page-fault';
  return false;
}
