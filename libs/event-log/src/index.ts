export * from './port';
export { FsEventLog, type FsEventLogOptions, type CommittedSizes } from './fs-event-log';
export { FsEventLogReader, type FsEventLogReaderOptions } from './fs-event-log-reader';
export { EventLogWriteError } from './append-file';
export { encodeLine, decodeLine, isCanonicalEvent, type DecodeResult } from './line-codec';
export { decodeEventPayload } from './fast-line';
export { isValidStream, relFile, utcDate, parseRelFile, type LogFileRef } from './layout';
export { quarantineCorruptLines, readQuarantine, quarantineDir, QuarantineEntry, type QuarantineReport } from './quarantine';
export { compressOldDays, compressCutoff, KEEP_NEWEST_FILES_PER_STREAM, type CompressOldDaysOptions, type CompressReport } from './retention';
export { RetentionLoop, type RetentionLoopDeps } from './retention-loop';
export {
  acquireRootLock,
  inspectRootLock,
  classifyLock,
  lockPath,
  RootLockedError,
  RootLockInfo,
  ROOT_LOCK_FILE,
  type LockStatus,
  type RootLock,
} from './root-lock';
export { logBytesOnDisk, logInventory, type LogInventory } from './inventory';
