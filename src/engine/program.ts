// What a loader needs from an assembled program: bytes at guest-physical addresses and an entry.
export interface Segment {
  address: number;
  bytes: Uint8Array;
}
