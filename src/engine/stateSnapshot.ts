// An exact, in-place snapshot of engine state: every object reachable from the roots (vCPUs,
// MMUs, TLBs, memory frames, the hypervisor's tables and counters) has its own fields recorded,
// and restore() writes them back into the same objects. Restoring in place (rather than
// building a copy) keeps every outside reference valid: the debugger's views, statistics and
// breakpoint tables go on pointing at the live machine. It is generic on purpose: the engine
// has no per-class snapshot API, and a reflective walk cannot forget a field added later.
//
// What is not state: event buses (their listeners are the debugger's, not the guest's),
// functions (closures are treated as constants), and the debugger's own hooks on frames
// (code breakpoints, data watches), which keep their current value across a restore.

/** Fields that belong to the debugger, not to the machine: never recorded, never restored. */
const DEBUGGER_FIELDS = new Set(['breakpoints', 'watch']);
/** Arrays of immutable decoded instructions: their slots are state, the instructions are not. */
const SHALLOW_FIELDS = new Set(['decoded', 'codeDecoded']);

type Bytes = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array | Uint8ClampedArray;

type Record_ =
  | { kind: 'object'; target: Record<string, unknown>; fields: [string, unknown][] }
  | { kind: 'array'; target: unknown[]; items: unknown[] }
  | { kind: 'map'; target: Map<unknown, unknown>; entries: [unknown, unknown][] }
  | { kind: 'set'; target: Set<unknown>; items: unknown[] }
  | { kind: 'bytes'; target: Bytes; copy: Bytes };

export interface StateSnapshotOptions {
  /** Objects not to record nor descend into (their state is someone else's). */
  skip?: (o: object) => boolean;
  /**
   * The previous snapshot's copies of typed arrays: an unchanged array shares its copy, so a
   * snapshot costs the bytes that changed since the last one (copy-on-write, seen from after).
   */
  previous?: StateSnapshot;
}

export class StateSnapshot {
  private readonly records: Record_[] = [];
  /** Copies of typed arrays by array, for the next snapshot to share. */
  readonly copies = new Map<Bytes, Bytes>();
  /** Bytes held by copies made for this snapshot (shared ones not counted). */
  ownBytes = 0;

  constructor(roots: readonly object[], options: StateSnapshotOptions = {}) {
    const seen = new Set<object>();
    const stack: { o: object; shallow: boolean }[] = roots.map((o) => ({ o, shallow: false }));
    const skip = options.skip ?? (() => false);
    const prev = options.previous?.copies;
    const push = (v: unknown, key: string): void => {
      if (typeof v === 'object' && v !== null && !seen.has(v)) stack.push({ o: v, shallow: SHALLOW_FIELDS.has(key) });
    };
    while (stack.length > 0) {
      const { o, shallow } = stack.pop()!;
      if (seen.has(o)) continue;
      seen.add(o);
      if (skip(o) || Object.isFrozen(o) || o instanceof DataView || o instanceof ArrayBuffer) continue;
      if (ArrayBuffer.isView(o)) {
        const a = o as Bytes;
        const old = prev?.get(a);
        const copy = old && sameBytes(old, a) ? old : (a.slice() as Bytes);
        if (copy !== old) this.ownBytes += a.byteLength;
        this.copies.set(a, copy);
        this.records.push({ kind: 'bytes', target: a, copy });
      } else if (Array.isArray(o)) {
        const items = o.slice();
        this.records.push({ kind: 'array', target: o, items });
        if (!shallow) for (const v of items) push(v, '');
      } else if (o instanceof Map) {
        const entries = [...o.entries()];
        this.records.push({ kind: 'map', target: o, entries });
        for (const [k, v] of entries) {
          push(k, '');
          push(v, '');
        }
      } else if (o instanceof Set) {
        const items = [...o.values()];
        this.records.push({ kind: 'set', target: o, items });
        for (const v of items) push(v, '');
      } else if (typeof o === 'object') {
        const target = o as Record<string, unknown>;
        const fields: [string, unknown][] = [];
        for (const key of Object.keys(target)) {
          if (DEBUGGER_FIELDS.has(key)) continue;
          const v = target[key];
          fields.push([key, v]);
          push(v, key);
        }
        this.records.push({ kind: 'object', target, fields });
      }
    }
  }

  /** Objects recorded (a measure of the walk's cost). */
  get objects(): number {
    return this.records.length;
  }

  /** Writes every recorded field back; objects created since are dropped from what refers to them. */
  restore(): void {
    for (const r of this.records) {
      switch (r.kind) {
        case 'bytes':
          r.target.set(r.copy as never);
          break;
        case 'array':
          r.target.length = r.items.length;
          for (let i = 0; i < r.items.length; i++) r.target[i] = r.items[i];
          break;
        case 'map':
          r.target.clear();
          for (const [k, v] of r.entries) r.target.set(k, v);
          break;
        case 'set':
          r.target.clear();
          for (const v of r.items) r.target.add(v);
          break;
        case 'object': {
          const keep = new Set(r.fields.map(([k]) => k));
          for (const key of Object.keys(r.target)) if (!keep.has(key) && !DEBUGGER_FIELDS.has(key)) delete r.target[key];
          for (const [k, v] of r.fields) r.target[k] = v;
          break;
        }
      }
    }
  }
}

function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a.byteLength !== b.byteLength || a.constructor !== b.constructor) return false;
  // Word compares where aligned (frames are): a quarter of the iterations.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && a.byteLength % 4 === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const y = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
