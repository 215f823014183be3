import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@homelab/contracts';
import { EventsQuery, queryEvents } from './event-query';

const rec = (node: string, seq: number, rx: string, type = 'service_healthy', service = 'zigbee2mqtt'): StoredEvent =>
  ({
    event: { id: `${node}-${seq}`, node, seq, ts: rx, type, service, ...(type === 'service_unhealthy' ? { data: { reason: 'containers_not_running' } } : {}) },
    rx,
  }) as StoredEvent;

describe('GET /api/events reading the event log', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-evq-'));
    const write = async (day: string, stream: string, recs: StoredEvent[]) => {
      await fs.mkdir(path.join(root, 'events', day), { recursive: true });
      await fs.writeFile(path.join(root, 'events', day, `${stream}.jsonl`), recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
    };
    await write('2026-11-26', 'piha', [rec('piha', 1, '2026-11-26T23:00:00.000Z'), rec('piha', 2, '2026-11-26T23:30:00.000Z', 'service_unhealthy')]);
    await write('2026-11-27', 'piha', [
      rec('piha', 3, '2026-11-27T01:00:00.000Z'),
      rec('piha', 4, '2026-11-27T02:00:00.000Z', 'service_unhealthy', 'mosquitto'),
    ]);
    await write('2026-11-27', 'chelsty-ha', [rec('chelsty-ha', 1, '2026-11-27T01:30:00.000Z')]);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));
  const q = (query: Record<string, unknown>) => queryEvents(root, EventsQuery.parse(query));
  const ids = (rs: StoredEvent[]) => rs.map((r) => r.event.id);

  it('returns the newest events across days and streams, oldest first', async () => {
    expect(ids(await q({}))).toEqual(['piha-1', 'piha-2', 'piha-3', 'chelsty-ha-1', 'piha-4']);
    expect(ids(await q({ limit: 2 }))).toEqual(['chelsty-ha-1', 'piha-4']);
  });

  it('filters by node, service and type', async () => {
    expect(ids(await q({ node: 'chelsty-ha' }))).toEqual(['chelsty-ha-1']);
    expect(ids(await q({ type: 'service_unhealthy' }))).toEqual(['piha-2', 'piha-4']);
    expect(ids(await q({ node: 'piha', service: 'mosquitto' }))).toEqual(['piha-4']);
  });

  it('returns only events received after `since`, whatever its time zone', async () => {
    expect(ids(await q({ since: '2026-11-27T01:00:00.000Z' }))).toEqual(['chelsty-ha-1', 'piha-4']);
    expect(ids(await q({ since: '2026-11-27T02:00:00+01:00' }))).toEqual(['chelsty-ha-1', 'piha-4']);
  });

  it('refuses a malformed filter', () => {
    expect(EventsQuery.safeParse({ node: '../etc' }).success).toBe(false);
    expect(EventsQuery.safeParse({ since: 'yesterday' }).success).toBe(false);
    expect(EventsQuery.safeParse({ limit: 5000 }).success).toBe(false);
  });
});
