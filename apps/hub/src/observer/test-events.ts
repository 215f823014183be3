import type { HomelabEvent, StoredEvent } from '@homelab/contracts';

/** Builders for observer tests: one event per call, with seq-derived ids and times. */

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
export const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

type Base = { id: string; node: string; seq: number; ts: string };
const base = (node: string, seq: number, ts?: string): Base => ({ id: `${node}-${seq}`, node, seq, ts: ts ?? at(seq) });

export const ev = {
  healthy: (node: string, seq: number, service: string, extra: { heartbeat?: boolean; ts?: string } = {}): HomelabEvent => ({
    ...base(node, seq, extra.ts),
    type: 'service_healthy',
    service,
    ...(extra.heartbeat ? { data: { heartbeat: true } } : {}),
  }),
  recovered: (node: string, seq: number, service: string): HomelabEvent => ({ ...base(node, seq), type: 'service_recovered', service }),
  starting: (node: string, seq: number, service: string): HomelabEvent => ({ ...base(node, seq), type: 'service_starting', service }),
  /** node_inventory; with `scan` when it follows the agent's complete scan of a desired state. */
  inventory: (node: string, seq: number, scan?: { session: number; desiredRevision: string; sessionFromSeq: number }): HomelabEvent => ({
    ...base(node, seq),
    type: 'node_inventory',
    data: { unmanaged: [], ...(scan ? { scan } : {}) },
  }),
  unhealthy: (node: string, seq: number, service: string, reason = 'containers_not_running', detail?: string, ts?: string): HomelabEvent => ({
    ...base(node, seq, ts),
    type: 'service_unhealthy',
    service,
    data: { reason, ...(detail !== undefined ? { detail } : {}) },
  }),
  disk: (node: string, seq: number, mount: string, level: 'ok' | 'warn' | 'high', usedPercent = 90): HomelabEvent =>
    level === 'ok'
      ? { ...base(node, seq), type: 'disk_ok', data: { mount, usedPercent } }
      : { ...base(node, seq), type: 'disk_pressure', data: { mount, level, usedPercent } },
  heartbeat: (node: string, seq: number, data?: { uptimeSec?: number; load1?: number }): HomelabEvent => ({
    ...base(node, seq),
    type: 'node_heartbeat',
    ...(data ? { data } : {}),
  }),
  docker: (node: string, seq: number, reachable: boolean): HomelabEvent =>
    reachable
      ? { ...base(node, seq), type: 'docker_reachable' }
      : { ...base(node, seq), type: 'docker_unreachable', data: { detail: 'connect ENOENT /var/run/docker.sock' } },
  /** Hub stream: `seq` is the hub's own seq; `node` the node whose status changed. */
  status: (node: string, seq: number, online: boolean, session: number, connection?: number): HomelabEvent => {
    const c = connection !== undefined ? { connection } : {};
    return online
      ? { id: `hub-${seq}`, node, seq, ts: at(seq), type: 'node_online', data: { session, ...c } }
      : { id: `hub-${seq}`, node, seq, ts: at(seq), type: 'node_offline', data: { session, ...c, reason: 'status_offline' } };
  },
};

/** Received the instant it was stamped unless `rx` says otherwise: the node's clock agrees with the hub's. */
export const stored = (event: HomelabEvent, rx?: string): StoredEvent => ({ event, rx: rx ?? event.ts });
