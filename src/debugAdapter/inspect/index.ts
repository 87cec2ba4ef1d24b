// The debugger's inspection layer: plain data and text over the engine for the DAP session
// (variables, console, evaluate, memory, disassembly) and the views' custom requests.
export { createInspectTarget, InspectError, vmById, vcpuOf } from './target';
export type { InspectTarget, InspectedVm, TargetVmInput } from './target';
export { inspectEvalContext } from './evalContext';
export { readRegister, setRegister, registerNames } from './registers';
export { scopesFor, registersScope, controlRegistersScope, lastExitScope, translationScope, controlsScope, walkRecordVariables } from './variables';
export type { InspectScope, InspectVariable, ScopeName } from './variables';
export { probeTranslation } from './translation';
export type { TranslationProbe, ShadowCheck } from './translation';
export { runConsole, isCommand, HELP } from './commands';
export type { ConsoleContext, ConsoleResult, TranslationRequest } from './commands';
export { walkText, pteText } from './walkText';
export { parseMemoryRef, formatMemoryRef, gvaRef, gpaRef, mpaRef } from './memoryRef';
export type { MemoryRef, AddressSpace } from './memoryRef';
export { readMemory, readMemoryRef, writeMemory, writeMemoryRef, MAX_READ_BYTES } from './memory';
export type { MemoryReadResult, ByteRange } from './memory';
export { disassemble, instructionAt } from './disassembly';
export type { DisassembledInstruction } from './disassembly';
export { tableRoots, tableEntries } from './tables';
export type { TableRoot, TableRequest, TablePayload, TableEntry, TableKind } from './tables';
export { walkPayload, tlbPayload, statisticsPayload, frameMapPayload, eventsPayload, contextPayload } from './views';
export { focusOf, faultOf } from './focus';
export type { Focus } from './focus';
export { EventLog } from './eventLog';
export type { LoggedEvent } from './eventLog';
export { toJson } from './json';
export type { Json } from './json';
