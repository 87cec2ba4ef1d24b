// Nested paging (EPT): the mode definition and what tests, the debugger and later features
// (copy-on-write, the EPT view) use.
export { nestedMode, createNested, nestedControls } from './nestedMode';
export type { NestedInstance } from './nestedMode';
export { NestedVmm, EMPTY_BUS_RESOLUTION } from './nestedVmm';
export type { NestedStats, ProtectionHandler, ProtectionViolation, ViolationResolution } from './nestedVmm';
export { NestedMmu } from './nestedMmu';
export { Ept } from './ept';
export type { EptAccess, EptFault, EptLeaf, EptWalkResult } from './ept';
export * from './eptFormat';
export { EptExit, eptViolationQualification } from './eptExit';
export type { EptAccessContext } from './eptExit';
export { EptWalkCaches } from './walkCaches';
export { auditNested, auditGuestHalf } from './audit';
