import { describe, expect, it } from 'vitest';
import { emptyWorld, type World, type WorldService } from '@homelab/contracts';
import { parseInstant } from './world-at-api';
import { diffWorlds } from './world-diff';

const svc = (status: WorldService['status'], over: Partial<WorldService> = {}): WorldService => ({
  node: 'piha',
  service: 'app',
  status,
  since: '2026-03-01T10:00:00.000Z',
  lastSeen: '2026-03-01T10:00:00.000Z',
  lastEventId: 'piha-1',
  lastSeq: 1,
  problemEventIds: [],
  ...over,
});
const world = (services: Record<string, WorldService>): World => ({ ...emptyWorld(), services });

describe('diffWorlds', () => {
  it.each<[string, World, World, { added: number; removed: number; changed: number }]>([
    ['nothing changed', world({ 'piha/app': svc('healthy') }), world({ 'piha/app': svc('healthy') }), { added: 0, removed: 0, changed: 0 }],
    [
      'a heartbeat moved lastSeen only',
      world({ 'piha/app': svc('healthy') }),
      world({ 'piha/app': svc('healthy', { lastSeen: '2026-03-01T11:00:00.000Z', lastSeq: 9 }) }),
      { added: 0, removed: 0, changed: 0 },
    ],
    [
      'a service went unhealthy',
      world({ 'piha/app': svc('healthy') }),
      world({ 'piha/app': svc('unhealthy', { reason: 'containers_not_running' }) }),
      { added: 0, removed: 0, changed: 1 },
    ],
    ['a service appeared', emptyWorld(), world({ 'piha/app': svc('starting') }), { added: 1, removed: 0, changed: 0 }],
    ['a service left the view', world({ 'piha/app': svc('healthy') }), emptyWorld(), { added: 0, removed: 1, changed: 0 }],
  ])('%s', (_name, before, after, counts) => {
    const d = diffWorlds(before, after).services;
    expect({ added: d.added.length, removed: d.removed.length, changed: d.changed.length }).toEqual(counts);
  });
});

describe('parseInstant', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');
  it.each<[string, string | null]>([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00.123+02:00', '2026-03-01T08:00:00.123Z'],
    ['2026-02-28', '2026-02-28T00:00:00.000Z'],
    ['90m', '2026-03-01T10:30:00.000Z'],
    ['2h', '2026-03-01T10:00:00.000Z'],
    ['1d', '2026-02-28T12:00:00.000Z'],
    ['yesterday', null],
    ['2026-13-01T00:00:00Z', null],
    ['-2h', null],
    ['', null],
  ])('%s → %s', (text, expected) => {
    expect(parseInstant(text, now)?.toISOString() ?? null).toBe(expected);
  });
});
