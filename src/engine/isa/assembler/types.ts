// The assembler's public data shapes. Everything the assembler reports is data: it never
// throws on bad input, so callers (CLI, language server, debugger) can show every problem.

/** A place in a source file; line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic extends SourceLocation {
  severity: 'error' | 'warning';
  message: string;
  /** 1-based column just past the offending text, when it is known. */
  endColumn?: number;
}

/** Bytes placed at a guest-physical address. Segments never overlap and are sorted by address. */
export interface Segment {
  address: number;
  bytes: Uint8Array;
}

export interface SourceMapEntry {
  /** Where the bytes are as code sees them (the location counter: a label's value). */
  address: number;
  /** Guest-physical address the bytes are loaded at: equal to address unless `.phys` moved them. */
  loadAddress: number;
  length: number;
  file: string;
  line: number;
  column: number;
  kind: 'insn' | 'data';
  /** The source line as assembled (after macro substitution), trimmed. */
  text: string;
  /** For lines produced by a macro expansion: where the expanded line is written in the macro body. */
  macroDefinition?: SourceLocation;
}

export interface AssembleResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  segments: Segment[];
  /** Labels and .equ symbols (local labels under their full name, e.g. `main.loop`). */
  symbols: Map<string, bigint>;
  /** Address labels only. */
  labels: Map<string, number>;
  /**
   * Address labels by guest-physical load address: two `.phys` copies of code at one address
   * (two user programs at the same gva) have labels of equal value but different load addresses.
   */
  labelLoads: Map<string, number>;
  entry: number | undefined;
  /** Sorted by address. */
  sourceMap: SourceMapEntry[];
}

/** How the assembler reaches files; the engine never touches the file system itself. */
export interface FileProvider {
  read(path: string): string | undefined;
  /** The path of `include` as written in `fromFile`. */
  resolve(fromFile: string, include: string): string;
}

export interface AssembleOptions {
  /** Symbols defined before the first line, as if by `.equ` (e.g. kernel variants). */
  defines?: Record<string, bigint>;
}
