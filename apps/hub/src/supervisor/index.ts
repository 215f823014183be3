export { Supervisor, type SupervisorDeps, type SupervisorReport } from './supervisor';
export { reconcile, type ReconcileInput, type ReconcilePlan } from './reconcile';
export { Finding, FindingKind, CancelReason } from './findings';
export { PeriodicLoop, type LoopOptions } from './loop';
