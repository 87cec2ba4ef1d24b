// #PF error-code bits (SDM 4.7). PK, SS and SGX are never produced: protection keys, shadow
// stacks and SGX are not modelled.
export const PF_P = 1 << 0;
export const PF_W = 1 << 1;
export const PF_U = 1 << 2;
export const PF_RSVD = 1 << 3;
export const PF_ID = 1 << 4;

/** "P W U RSVD ID"-style text for the UI, e.g. 0x7 → "P|W|U". */
export function describeErrorCode(err: number): string {
  const names: [number, string][] = [[PF_P, 'P'], [PF_W, 'W'], [PF_U, 'U'], [PF_RSVD, 'RSVD'], [PF_ID, 'ID']];
  const parts = names.filter(([bit]) => err & bit).map(([, n]) => n);
  return parts.length ? parts.join('|') : '0';
}
