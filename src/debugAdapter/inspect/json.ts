// Payloads travel as JSON: 64-bit values (bigint) become 0x-prefixed hex strings.
import type { Wire } from '../viewsProtocol';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The value as the wire carries it; typed so a payload function returns its wire type. */
export function toJson<T>(value: T): Wire<T> {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + BigInt.asUintN(64, v).toString(16) : v instanceof Uint8Array ? Array.from(v) : v))) as Wire<T>;
}
