import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@homelab/contracts';
import { pendingAction } from '@homelab/action-store/testing';
import { FsEventLog } from '@homelab/event-log';
import { buildTestWeb } from '../testing';
import { actionChainBody } from './action-chain';

const viewer = { name: 'v', role: 'viewer' as const, via: 'token' as const };
const now = new Date('2026-11-26T15:00:00.000Z');
const unhealthy: StoredEvent = {
  event: {
    id: 'piha-1',
    node: 'piha',
    seq: 1,
    ts: '2026-11-26T14:01:00.000Z',
    type: 'service_unhealthy',
    service: 'zigbee2mqtt',
    data: { reason: 'containers_not_running' },
  },
  rx: '2026-11-26T14:01:00.000Z',
};
const recovered: StoredEvent = {
  event: { id: 'piha-9', node: 'piha', seq: 9, ts: '2026-11-26T14:06:00.000Z', type: 'service_recovered', service: 'zigbee2mqtt' },
  rx: '2026-11-26T14:06:00.000Z',
};

describe("an action's chain", () => {
  it('goes event → drift → action → command → result → after, linking each event to the events page', () => {
    const a = pendingAction('container-restart-piha-zigbee2mqtt', {
      state: 'completed',
      command: { sentAt: '2026-11-26T14:04:00.000Z', deadline: '2026-11-26T14:09:00.000Z', attempts: 1 },
      result: {
        actionId: 'container-restart-piha-zigbee2mqtt',
        node: 'piha',
        status: 'completed',
        startedAt: '2026-11-26T14:04:01.000Z',
        finishedAt: '2026-11-26T14:05:00.000Z',
        output: 'restarted zigbee2mqtt',
      },
      audit: [
        { at: '2026-11-26T14:02:00.000Z', state: 'pending', by: 'supervisor', via: 'supervisor' },
        { at: '2026-11-26T14:03:00.000Z', state: 'approved', by: 'alice', via: 'operator' },
      ],
    });
    const page = actionChainBody(a, new Map([['piha-1', unhealthy]]), [recovered], viewer, now).text;
    const order = ['1. Events', '2. Drift', '3. Action', '4. Command', '5. Result', '6. After'].map((h) => page.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(page).toContain('href="/events?node=piha&amp;id=piha-1"');
    expect(page).toContain('href="/events?node=piha&amp;id=piha-9"');
    expect(page).toContain('service_unhealthy');
    expect(page).toMatch(/approved.*by alice \(operator\)/);
    expect(page).toContain('1 attempt');
    expect(page).toContain('restarted zigbee2mqtt');
  });

  it('says a pending action has no command yet and an event no longer in the recent log is still linked', () => {
    const page = actionChainBody(pendingAction('container-restart-piha-zigbee2mqtt'), new Map(), [], viewer, now).text;
    expect(page).toContain('href="/events?node=piha&amp;id=piha-1"');
    expect(page).toContain("not among the node's recent events");
    expect(page).toContain('waiting for a decision');
    expect(page).not.toContain('6. After');
  });
});

describe('GET /actions/<id> and /events?id=', () => {
  let root: string;
  let web: Awaited<ReturnType<typeof buildTestWeb>>;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-chain-'));
    web = await buildTestWeb({ root });
    const log = new FsEventLog({ root });
    await log.open();
    await log.append('piha', [unhealthy.event], new Date(unhealthy.rx));
    await log.append('piha', [{ ...unhealthy.event, id: 'piha-2', seq: 2 }], new Date(unhealthy.rx));
    await log.close();
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const get = (url: string) => web.app.inject({ url, headers: { authorization: `Bearer ${web.creds.viewerToken}` } });

  it("shows the action's chain with its event from the log, linked from the actions page", async () => {
    await web.store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
    const page = await get('/actions/container-restart-piha-zigbee2mqtt');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Action container-restart-piha-zigbee2mqtt');
    expect(page.body).toMatch(/piha-1<\/a> service_unhealthy zigbee2mqtt · containers_not_running/);
    expect((await get('/actions')).body).toContain('href="/actions/container-restart-piha-zigbee2mqtt"');
  });

  it('answers 404 for an unknown action and invalid_id for a malformed one', async () => {
    expect((await get('/actions/container-restart-piha-nothing')).statusCode).toBe(404);
    expect((await get('/actions/..%2Fetc')).statusCode).toBe(400);
  });

  it('shows one event by id on the events page and in the API', async () => {
    const page = await get('/events?node=piha&id=piha-2');
    expect(page.body).toContain('Event <code>piha-2</code> only');
    const api = (await get('/api/events?node=piha&id=piha-2')).json() as { events: StoredEvent[] };
    expect(api.events.map((e) => e.event.id)).toEqual(['piha-2']);
  });
});
