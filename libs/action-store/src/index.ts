export { ActionStoreError, InvalidActionError, type ActionStore, type ActionStoreErrorCode } from './port';
export { FsActionStore, type FsActionStoreOptions } from './fs-action-store';
export type { FsOps } from './durable';
export type { RepairReport } from './repair';
export type { QuarantinedActionFile } from './quarantine';
