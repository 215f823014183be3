export { ActionStoreError, InvalidActionError, type ActionStore, type ActionStoreErrorCode } from './port';
export { FsActionStore, type FsActionStoreOptions } from './fs-action-store';
export type { FsOps } from './durable';
export type { RepairReport } from './repair';
export type { QuarantinedActionFile } from './quarantine';
export { ACTION_FILE_VERSION, encodeAction, versionProblem } from './codec';
export { actionFilesOf } from './layout';
