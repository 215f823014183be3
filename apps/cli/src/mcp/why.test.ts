import { describe, expect, it } from 'vitest';
import type { Action, StoredEvent } from '@homelab/contracts';
import { buildChain } from './why';

const T = '2026-12-06T08:00:00.000Z';
const event = (id: string, type = 'service_unhealthy'): StoredEvent =>
  ({
    event: { id, node: 'piha', seq: Number(id.split('-')[1]), ts: T, type, service: 'svc', data: { reason: 'containers_not_running' } },
    rx: T,
  }) as StoredEvent;
const action = (over: Partial<Action> = {}): Action => ({
  id: 'container-restart-piha-svc',
  type: 'container_restart',
  risk: 'low',
  node: 'piha',
  service: 'svc',
  state: 'pending',
  drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: ['piha-2', 'piha-5'], firstSeen: T },
  summary: 'svc on piha is unhealthy',
  createdAt: T,
  updatedAt: T,
  audit: [{ at: T, state: 'pending', by: 'supervisor', via: 'supervisor' }],
  ...over,
});

describe('the chain of an action (why)', () => {
  it.each([
    {
      name: 'keeps only the evidence events, in the order of the log',
      action: action(),
      events: [event('piha-1', 'service_healthy'), event('piha-2'), event('piha-3'), event('piha-5')],
      evidence: ['piha-2', 'piha-5'],
      missing: [],
      lines: ['events (2 of 2):', 'drift: unhealthy_service (containers_not_running)', 'command: not sent', 'result: none yet'],
    },
    {
      name: 'names evidence older than the events the API returned',
      action: action(),
      events: [event('piha-5')],
      evidence: ['piha-5'],
      missing: ['piha-2'],
      lines: ['events (1 of 2):', 'not in the newest 1000 events of piha/svc: piha-2'],
    },
    {
      name: 'shows an operator request with no evidence, its command and failed result',
      action: action({
        state: 'failed',
        drift: { type: 'operator_request', reason: 'manual', eventIds: [], firstSeen: T },
        audit: [
          { at: T, state: 'pending', by: 'carol', via: 'cli', note: 'after the upgrade' },
          { at: T, state: 'approved', by: 'dave', via: 'api' },
        ],
        command: { sentAt: T, deadline: T, attempts: 2 },
        result: {
          actionId: 'container-restart-piha-svc',
          node: 'piha',
          status: 'failed',
          startedAt: T,
          finishedAt: T,
          output: '',
          error: { code: 'docker_failed', message: 'no such container' },
        },
      }),
      events: [],
      evidence: [],
      missing: [],
      lines: [
        'events (0 of 0):',
        'drift: operator_request (manual)',
        'by carol via cli — after the upgrade',
        'by dave via api',
        'command: sent',
        '2 attempt(s)',
        'result: failed docker_failed: no such container',
      ],
    },
  ])('$name', ({ action, events, evidence, missing, lines }) => {
    const chain = buildChain(action, events);
    expect(chain.evidence.map((e) => e.event.id)).toEqual(evidence);
    expect(chain.missingEventIds).toEqual(missing);
    for (const line of lines) expect(chain.text).toContain(line);
  });
});
