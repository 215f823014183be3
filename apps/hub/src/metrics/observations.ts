import type { Action, HomelabEvent } from '@homelab/contracts';

/** Event types that report a problem the node detected (docs/events.md): the ones whose latency is measured. */
const DETECTIONS = new Set(['service_unhealthy', 'disk_pressure', 'docker_unreachable']);

/** A problem the node detected: not a periodic repeat of an unchanged state. */
export function isDetection(e: HomelabEvent): boolean {
  return DETECTIONS.has(e.type) && !(e.type === 'service_unhealthy' && e.data.heartbeat === true);
}

/**
 * Seconds from the node observing a problem to the hub writing it: `rx − ts`,
 * with `ts` moved into the hub's time by the node's clock offset (WorldNode.clocks,
 * docs/observer-runtime.md "Clock offset"); never below 0. Null for anything that
 * is not a detection, including the periodic repeats of an unchanged state.
 */
export function detectionLatencySeconds(e: HomelabEvent, rx: string, offsetMs: number): number | null {
  if (!isDetection(e)) return null;
  const ms = Date.parse(rx) - (Date.parse(e.ts) - offsetMs);
  return Number.isFinite(ms) ? Math.max(0, ms) / 1000 : null;
}

const FINAL = new Set(['completed', 'failed', 'rejected', 'cancelled']);

/**
 * How long a finished action ran, from its final audit entry: what the agent
 * measured (`durationMs`), else from approval (`sinceApprovalMs`, e.g. a deadline
 * that passed without an answer). Null for an action not (yet) final or never run.
 */
export function actionDurationSeconds(a: Action): number | null {
  if (!FINAL.has(a.state)) return null;
  const last = a.audit.findLast((e) => e.state === a.state);
  const ms = last?.durationMs ?? last?.sinceApprovalMs;
  return ms === undefined ? null : ms / 1000;
}

export const isFinalState = (state: string) => FINAL.has(state);
