// The session client: everything the views, webviews and editor features know about vmem debug sessions.
export { VmemSessions, VMEM_DEBUG_TYPE } from './vmemSessions';
export type { StopState, TranslationRequest } from './vmemSessions';
export { VmemRequestError, isRoutineFailure } from './requestError';
export type { VmemRequestFailure } from './requestError';
