import { describe, expect, it } from 'vitest';
import { SUMMARY_FULL_LIST_MAX, type Summary } from '@homelab/contracts';
import { summaryForClients } from './summary';

type Svc = Summary['services'][number];
const svc = (i: number, status: Svc['status']): Svc => ({
  node: 'piha',
  service: `svc-${i}`,
  status,
  since: '2026-11-27T08:00:00.000Z',
  lastSeen: '2026-11-27T09:59:00.000Z',
  lastEventId: `piha-${i}`,
  lastSeq: i,
  problemEventIds: [],
  desired: true,
  monitored: true,
});
const summaryOf = (services: Svc[]): Summary => ({
  generatedAt: '2026-11-27T10:00:00.000Z',
  nodes: [],
  services,
  actions: { counts: {}, pending: [], running: [], recent: [] },
  configProblems: [],
  findings: [],
});
const fleet = (n: number, unhealthyEvery: number) => Array.from({ length: n }, (_, i) => svc(i, i % unhealthyEvery === 0 ? 'unhealthy' : 'healthy'));

describe('summaryForClients', () => {
  it('lists every service of a small fleet, with counts', () => {
    const out = summaryForClients(summaryOf(fleet(10, 5)));
    expect(out.servicesListed).toBe('all');
    expect(out.services).toHaveLength(10);
    expect(out.serviceCounts).toEqual({ total: 10, healthy: 8 });
  });

  it('lists only the services that are not healthy above the full-list limit, and all of them when asked', () => {
    const s = summaryOf(fleet(SUMMARY_FULL_LIST_MAX + 100, 50));
    const out = summaryForClients(s);
    expect(out.servicesListed).toBe('problems');
    expect(out.services.every((v) => v.status !== 'healthy')).toBe(true);
    expect(out.services).toHaveLength(12);
    expect(out.serviceCounts).toEqual({ total: 600, healthy: 588 });
    expect(summaryForClients(s, 'all').services).toHaveLength(600);
  });

  it('lists only problems of a small fleet when asked', () => {
    expect(summaryForClients(summaryOf(fleet(10, 5)), 'problems').services.map((v) => v.service)).toEqual(['svc-0', 'svc-5']);
  });
});
