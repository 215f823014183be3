export { HistoryLoop, type HistoryLoopDeps, type HistoryRun } from './history-loop';
export { WorldHistory, type WorldHistoryDeps } from './world-at-service';
export { WorldAtView, WorldDiff, parseInstant } from './world-at-api';
export { diffWorlds } from './world-diff';
export { worldAt, foldUntil } from './world-at';
export { listSnapshots, snapshotFor, HistorySnapshot } from './snapshot-file';
export { aliasesHash } from '../observer/checkpoint';
