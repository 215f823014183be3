import { describe, expect, it } from 'vitest';
import type { Action, Summary } from '@homelab/contracts';
import { summaryMarkdown } from './summary-markdown';

const now = new Date('2026-11-27T10:00:00.000Z');
const action = (over: Partial<Action>): Action => ({
  id: 'container-restart-piha-zigbee2mqtt',
  type: 'container_restart',
  risk: 'low',
  node: 'piha',
  service: 'zigbee2mqtt',
  state: 'pending',
  drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: '2026-11-27T09:50:00.000Z' },
  summary: 'zigbee2mqtt on piha: containers not running; restart them',
  createdAt: '2026-11-27T09:51:00.000Z',
  updatedAt: '2026-11-27T09:51:00.000Z',
  audit: [],
  ...over,
});

function summary(): Summary {
  return {
    generatedAt: now.toISOString(),
    nodes: [
      {
        node: 'piha',
        online: true,
        session: 1,
        statusSince: '2026-11-27T08:00:00.000Z',
        lastSeen: '2026-11-27T09:59:00.000Z',
        lastSeq: 9,
        dockerReachable: true,
        disks: { '/': { mount: '/', level: 'high', usedPercent: 95, since: '2026-11-27T09:00:00.000Z' } },
        desiredServices: 2,
      },
      {
        node: 'chelsty-ha',
        online: false,
        session: 1,
        statusSince: '2026-11-27T09:30:00.000Z',
        lastSeen: '2026-11-27T09:29:00.000Z',
        lastSeq: 3,
        dockerReachable: null,
        disks: {},
        desiredServices: 1,
      },
    ],
    services: [
      {
        node: 'piha',
        service: 'zigbee2mqtt',
        status: 'unhealthy',
        reason: 'containers_not_running',
        since: '2026-11-27T09:50:00.000Z',
        lastSeen: '2026-11-27T09:59:00.000Z',
        lastEventId: 'piha-9',
        lastSeq: 9,
        problemEventIds: [],
        desired: true,
        monitored: true,
      },
      {
        node: 'piha',
        service: 'mosquitto',
        status: 'healthy',
        since: '2026-11-27T08:00:00.000Z',
        lastSeen: '2026-11-27T09:59:00.000Z',
        lastEventId: 'piha-8',
        lastSeq: 8,
        problemEventIds: [],
        desired: true,
        monitored: true,
      },
    ],
    actions: {
      counts: { pending: 1, failed: 1 },
      pending: [action({})],
      running: [],
      recent: [
        action({
          id: 'redeploy-piha-mosquitto',
          type: 'redeploy',
          risk: 'guarded',
          service: 'mosquitto',
          state: 'failed',
          updatedAt: '2026-11-27T09:40:00.000Z',
          result: {
            actionId: 'redeploy-piha-mosquitto',
            node: 'piha',
            status: 'failed',
            startedAt: '2026-11-27T09:39:00.000Z',
            finishedAt: '2026-11-27T09:40:00.000Z',
            output: 'docker-compose up\nERROR: no such image\n',
            error: { code: 'compose_failed', message: 'exit 1' },
          },
        }),
        action({ id: 'redeploy-piha-old', state: 'failed', updatedAt: '2026-11-25T09:40:00.000Z' }),
      ],
    },
    configProblems: [],
    findings: [],
  };
}

describe('the markdown summary for AI', () => {
  it('lists every problem with node, service and since when', () => {
    const md = summaryMarkdown(summary(), now);
    expect(md).toContain('- piha/zigbee2mqtt: unhealthy, containers_not_running since 2026-11-27T09:50:00.000Z (10 min ago)');
    expect(md).toContain('- node chelsty-ha: offline since 2026-11-27T09:30:00.000Z (30 min ago)');
    expect(md).toContain('- node piha: disk / at 95% (high)');
    expect(md).not.toContain('piha/mosquitto: healthy');
  });

  it('lists pending actions with their why and risk', () => {
    const md = summaryMarkdown(summary(), now);
    expect(md).toContain(
      '- container-restart-piha-zigbee2mqtt [pending, risk low] on piha/zigbee2mqtt: zigbee2mqtt on piha: containers not running; restart them',
    );
  });

  it('lists failures of the last day with the error and the last output line, and leaves older ones out', () => {
    const md = summaryMarkdown(summary(), now);
    expect(md).toContain(
      '- redeploy-piha-mosquitto on piha/mosquitto failed 2026-11-27T09:40:00.000Z (20 min ago): compose_failed: exit 1; last output: ERROR: no such image',
    );
    expect(md).not.toContain('redeploy-piha-old');
  });

  it('says none when all is well', () => {
    const s = summary();
    s.nodes = [];
    s.services = [];
    s.actions = { counts: {}, pending: [], running: [], recent: [] };
    const md = summaryMarkdown(s, now);
    expect(md.match(/- none/g)).toHaveLength(3);
  });
});
