import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MirrorSummary, type MirrorStatus, type Summary } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { buildMirrorView } from './server';

const now = new Date('2026-11-27T10:00:00.000Z');
const copiedAt = '2026-11-27T09:55:00.000Z';

function summary(): Summary {
  return {
    generatedAt: copiedAt,
    nodes: [
      {
        node: 'piha',
        online: true,
        session: 1,
        statusSince: '2026-11-27T08:00:00.000Z',
        lastSeen: '2026-11-27T09:54:00.000Z',
        lastSeq: 9,
        dockerReachable: true,
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
        detail: '<script>alert(1)</script>',
        since: '2026-11-27T09:50:00.000Z',
        lastSeen: '2026-11-27T09:50:00.000Z',
        lastEventId: 'piha:1:9',
        lastSeq: 9,
        problemEventIds: ['piha:1:9'],
        desired: true,
        monitored: true,
      },
    ],
    actions: { counts: { pending: 0 }, pending: [], running: [], recent: [] },
    configProblems: [],
    findings: [],
  };
}

let dir: string;
const write = (name: string, value: unknown) => fs.writeFile(path.join(dir, name), JSON.stringify(value));
const status = (over: Partial<MirrorStatus> = {}): MirrorStatus => ({
  hub: 'http://hub.example:18180',
  ok: true,
  lastAttempt: copiedAt,
  lastSuccess: copiedAt,
  ...over,
});
const view = (token?: string) => buildMirrorView({ dir, log: createLogger('mirror-test', { level: 'silent' }), now: () => now, ...(token ? { token } : {}) });

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-mirror-view-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("the mirror's read-only page", () => {
  it("says whose copy it is and how old, and shows the copy's services escaped", async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status());
    const res = await view().inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Read-only copy of <strong>http://hub.example:18180</strong>');
    expect(res.body).toMatch(/copied\s*<time datetime="2026-11-27T09:55:00.000Z"[^>]*>5 min ago<\/time>/);
    expect(res.body).toContain('zigbee2mqtt');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).not.toMatch(/<form|<button[^>]*(approve|reject)/);
  });

  it('says the hub has not answered since the copy when the last pass failed', async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status({ ok: false, lastAttempt: now.toISOString(), error: 'fetch failed (ECONNREFUSED)' }));
    const res = await view().inject({ url: '/' });
    expect(res.body).toContain('The hub has not answered since then');
    expect(res.body).toContain('ECONNREFUSED');
  });

  it('serves the JSON summary with where and when it was copied from', async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status());
    const res = await view().inject({ url: '/summary' });
    const body = MirrorSummary.parse(res.json());
    expect(body.mirror).toMatchObject({ hub: 'http://hub.example:18180', readOnly: true, ageSeconds: 300, lastSuccess: copiedAt });
    expect(body.services[0]?.service).toBe('zigbee2mqtt');
  });

  it("serves the hub's Copy-for-AI markdown with a line naming the hub and the copy's age", async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status());
    const res = await view().inject({ url: '/summary?format=markdown' });
    expect(res.headers['content-type']).toMatch(/text\/markdown/);
    expect(res.body).toMatch(/^# homelab status /);
    expect(res.body).toContain('Read-only copy of http://hub.example:18180, copied 2026-11-27T09:55:00.000Z (5 min ago).');
    expect(res.body).toContain('piha/zigbee2mqtt: unhealthy');
  });

  it('shows one node of the copy and answers 404 for a node the copy does not know', async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status());
    expect((await view().inject({ url: '/nodes/piha' })).body).toContain('Node piha');
    expect((await view().inject({ url: '/nodes/nowhere' })).statusCode).toBe(404);
  });

  it('explains that there is no copy yet instead of failing, and /summary answers mirror_empty', async () => {
    const page = await view().inject({ url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('No copy yet');
    const json = await view().inject({ url: '/summary' });
    expect(json.statusCode).toBe(503);
    expect(json.json()).toMatchObject({ error: 'mirror_empty' });
  });

  it('refuses a summary.json that does not parse, naming the file', async () => {
    await fs.writeFile(path.join(dir, 'summary.json'), '{"generatedAt":"yesterday"}');
    await write('mirror-status.json', status());
    const res = await view().inject({ url: '/summary' });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toContain('summary.json does not parse');
  });

  it('with a view token, answers 401 with a browser prompt unless the token is given as Bearer or password', async () => {
    await write('summary.json', summary());
    await write('mirror-status.json', status());
    const app = view('s3cret-token');
    const none = await app.inject({ url: '/' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await app.inject({ url: '/summary', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/summary', headers: { authorization: 'Bearer s3cret-token' } })).statusCode).toBe(200);
    const basic = `Basic ${Buffer.from('anyone:s3cret-token').toString('base64')}`;
    expect((await app.inject({ url: '/', headers: { authorization: basic } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});
