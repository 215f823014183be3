import type { HomelabEvent } from '@homelab/contracts';
import { prng } from '@homelab/testkit';

/**
 * Deterministic, realistic events for the benchmarks: service heartbeats
 * (mostly healthy, some unhealthy with a reason, recoveries), node heartbeats
 * and disk readings, ~200 bytes of JSON each.
 */

export const SERVICE_NAMES = [
  'grafana',
  'prometheus',
  'loki',
  'promtail',
  'alertmanager',
  'node-exporter',
  'cadvisor',
  'traefik',
  'home-assistant',
  'zigbee2mqtt',
  'mosquitto',
  'esphome',
  'node-red',
  'influxdb',
  'telegraf',
  'pihole',
  'unbound',
  'wireguard',
  'nextcloud',
  'postgres',
  'redis',
  'mariadb',
  'vaultwarden',
  'gitea',
  'drone',
  'registry',
  'jellyfin',
  'sonarr',
  'radarr',
  'prowlarr',
  'qbittorrent',
  'immich',
  'paperless',
  'syncthing',
  'restic',
  'uptime-kuma',
  'homepage',
  'portainer',
  'watchtower',
  'frigate',
] as const;

const REASONS = ['containers_not_running', 'container_unhealthy', 'restart_loop', 'probe_failed'] as const;

export interface EventSource {
  /** Next event of `node` (its seq increases by one per call). */
  next(node: string, nodeIndex: number): HomelabEvent;
}

/**
 * `services` services per node, each healthy most of the time (about 5 % of
 * events are unhealthy: stretches of unhealthy heartbeats, then a recovery). `t0` is the first timestamp; each event of a node is 1 s later.
 */
export function eventSource(opts: { services: number; seed?: number; t0?: Date }): EventSource {
  const rnd = prng(opts.seed ?? 42);
  const t0 = (opts.t0 ?? new Date('2026-03-01T00:00:00.000Z')).getTime();
  const seqs = new Map<string, number>();
  const unhealthy = new Map<string, (typeof REASONS)[number]>();
  return {
    next(node, nodeIndex) {
      const seq = (seqs.get(node) ?? 0) + 1;
      seqs.set(node, seq);
      const base = { id: `${node}-${seq}`, node, seq, ts: new Date(t0 + seq * 1000 + nodeIndex).toISOString() };
      const r = rnd();
      if (r < 0.01) {
        return {
          ...base,
          type: 'node_heartbeat',
          data: { uptimeSec: seq * 10, load1: Math.round(rnd() * 400) / 100, memUsedPercent: Math.round(rnd() * 1000) / 10, services: opts.services },
        };
      }
      if (r < 0.012) {
        const used = Math.round((80 + rnd() * 20) * 10) / 10;
        return used >= 90
          ? {
              ...base,
              type: 'disk_pressure',
              data: { mount: '/', level: used >= 95 ? 'high' : 'warn', usedPercent: used, freeBytes: Math.round((100 - used) * 1e9) },
            }
          : { ...base, type: 'disk_ok', data: { mount: '/', usedPercent: used } };
      }
      const service = SERVICE_NAMES[Math.floor(rnd() * opts.services) % SERVICE_NAMES.length]!;
      const key = `${node}/${service}`;
      const was = unhealthy.get(key);
      // A healthy service turns unhealthy on 1 in 200 of its events; an unhealthy one recovers on 1 in 10.
      const flip = rnd() < (was ? 0.1 : 0.005);
      const container = { name: `${service}-1`, state: 'running', health: 'healthy' };
      if ((was && !flip) || (!was && flip)) {
        const reason = was ?? REASONS[Math.floor(rnd() * REASONS.length)]!;
        unhealthy.set(key, reason);
        const state = reason === 'containers_not_running' ? 'exited' : 'running';
        return {
          ...base,
          type: 'service_unhealthy',
          service,
          data: {
            containers: [{ ...container, state, health: 'unhealthy', restartCount: seq % 5 }],
            reason,
            detail: `${reason.replace(/_/g, ' ')} (check ${seq % 7})`,
          },
        };
      }
      if (was) {
        unhealthy.delete(key);
        return { ...base, type: 'service_recovered', service, data: { containers: [container] } };
      }
      return { ...base, type: 'service_healthy', service, data: { containers: [container], heartbeat: true } };
    },
  };
}
