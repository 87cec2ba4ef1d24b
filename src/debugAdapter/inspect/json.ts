// Payloads travel as JSON: 64-bit values (bigint) become 0x-prefixed hex strings.
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + BigInt.asUintN(64, v).toString(16) : v instanceof Uint8Array ? Array.from(v) : v))) as Json;
}
