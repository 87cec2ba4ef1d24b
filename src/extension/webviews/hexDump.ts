// A classic hex dump (address, 16 bytes, ASCII) of a readMemory answer. Pure: unit-tested.

/** Parses the start address of a memory reference (`mpa:0x…`, `gpa:1:0x…`, `gva:1/0:0x…`). */
export function referenceAddress(reference: string): bigint | undefined {
  const m = /:(0x[0-9a-f]+)$/i.exec(reference);
  return m ? BigInt(m[1]) : undefined;
}

/** `bytes` read at `base` (unreadable bytes beyond them are reported as such). */
export function hexDump(base: bigint, bytes: Uint8Array, unreadable = 0): string {
  const lines: string[] = [];
  const width = base + BigInt(bytes.length) > 0xffffffffn ? 16 : 8;
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hexes = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const left = hexes.slice(0, 8).join(' ');
    const right = hexes.slice(8).join(' ');
    // Printable ASCII only: guest bytes must not smuggle control characters into the editor.
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + BigInt(off)).toString(16).padStart(width, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  if (unreadable > 0) lines.push(`(${unreadable} bytes beyond this are unreadable)`);
  return lines.join('\n');
}
