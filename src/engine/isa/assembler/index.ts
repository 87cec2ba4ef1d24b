// The guest assembler: Intel-syntax source → bytes at guest-physical addresses + a source map.
export type { AssembleOptions, AssembleResult, Diagnostic, FileProvider, Segment, SourceLocation, SourceMapEntry } from './types';
export { assemble, assembleText, memoryFiles, normalizePath, MAX_PASSES } from './assembler';
export { addressesForLine, bytesAt, listing, lookupAddress, lookupLoadAddress } from './sourceMap';
export { MAX_ADDRESS, MAX_OUTPUT_BYTES } from './output';
