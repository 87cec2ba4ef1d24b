// The shape of one row of docs/isa.md's "Semantics" tables, as generated into
// generated/instructionDocs.ts by scripts/genGrammar.mjs.

export interface InstructionDocRow {
  /** The table it comes from ("Data movement", "Arithmetic and logic", ...). */
  group: string;
  /** Mnemonics the row describes, lower case ("jcc" stands for every conditional jump). */
  mnemonics: string[];
  /** The row's first cell as written, e.g. "`push s` / `pop d`" (markdown). */
  syntax: string;
  /** What it does (markdown). */
  effect: string;
  /** Flag columns as [column header, cell], or a single ["flags", cell]; empty when the table has none. */
  flags: [string, string][];
  /** Paragraphs after the table that name this row's mnemonics (markdown). */
  notes: string[];
}

/** One row of docs/isa.md's "Directives" table. */
export interface DirectiveDocRow {
  /** Lower-case directives the row describes, with the dot. */
  directives: string[];
  syntax: string;
  meaning: string;
}
