export * from './port';
export { FsEventLog, type FsEventLogOptions, type CommittedSizes } from './fs-event-log';
export { FsEventLogReader, type FsEventLogReaderOptions } from './fs-event-log-reader';
export { EventLogWriteError } from './append-file';
export { encodeLine, decodeLine, type DecodeResult } from './line-codec';
export { isValidStream, relFile, utcDate, parseRelFile, type LogFileRef } from './layout';
