export { Supervisor, type SupervisorDeps, type SupervisorReport } from './supervisor';
export { reconcile, type ReconcileInput, type ReconcilePlan } from './reconcile';
export { Finding, FindingKind, CancelReason } from './findings';
export { PolicyResolver, autoApproves, inMaintenance, BUILT_IN_POLICY, MAX_RESTART_WINDOW_MS, type EffectivePolicy } from './policy';
