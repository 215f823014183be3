import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pendingAction } from '@homelab/action-store/testing';
import { HOMELAB_VERSION } from '@homelab/contracts';
import { buildTestWeb } from './testing';

type Web = Awaited<ReturnType<typeof buildTestWeb>>;

describe('hub web: auth, CSRF and roles', () => {
  let root: string;
  let web: Web;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-'));
    web = await buildTestWeb({ root });
    await web.store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const approve = (headers: Record<string, string> = {}, body: unknown = {}) =>
    web.app.inject({
      method: 'POST',
      url: '/api/actions/container-restart-piha-zigbee2mqtt/approve',
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  const login = async (user = 'admin', password = web.creds.password!) => {
    const res = await web.app.inject({ method: 'POST', url: '/login', payload: { user, password } });
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    return { res, cookie, csrf: res.json().csrf as string };
  };
  const state = async () => (await web.store.get('container-restart-piha-zigbee2mqtt'))!.state;

  it('refuses a decision without credentials (401) and leaves the action pending', async () => {
    expect((await approve()).statusCode).toBe(401);
    expect((await approve({ authorization: 'Bearer hlo_not-a-token' })).statusCode).toBe(401);
    expect(await state()).toBe('pending');
  });

  it('refuses every read except /healthz and the login page without credentials', async () => {
    for (const url of ['/summary', '/summary?format=markdown', '/api/world', '/api/actions', '/api/events', '/api/stream', '/api/openapi.json']) {
      expect((await web.app.inject({ url })).statusCode, url).toBe(401);
    }
    expect((await web.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await web.app.inject({ url: '/login' })).statusCode).toBe(200);
    const page = await web.app.inject({ url: '/actions', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Factions');
  });

  it('lets a viewer token read but not decide (403)', async () => {
    const viewer = { authorization: `Bearer ${web.creds.viewerToken}` };
    expect((await web.app.inject({ url: '/summary', headers: viewer })).statusCode).toBe(200);
    const res = await approve(viewer);
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/viewer/);
    expect(await state()).toBe('pending');
  });

  it('lets a viewer login read but not decide, even with its CSRF token', async () => {
    const { cookie, csrf } = await login('viewer', 'viewer-password');
    expect((await approve({ cookie, 'x-csrf-token': csrf })).statusCode).toBe(403);
    expect(await state()).toBe('pending');
  });

  it('approves with an operator token, recording the body’s `by`', async () => {
    const res = await approve({ authorization: `Bearer ${web.creds.operatorToken}` }, { by: 'alice' });
    expect(res.statusCode).toBe(200);
    expect(res.json().audit.at(-1)).toMatchObject({ state: 'approved', by: 'alice', via: 'api' });
    expect(web.decisions()).toBe(1);
  });

  it('sets an HttpOnly SameSite=Strict session cookie on login', async () => {
    const { res } = await login();
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']).split('; ');
    expect(cookie[0]).toMatch(/^homelab_session=[\w-]{40,}$/);
    expect(cookie.slice(1)).toHaveLength(4);
    expect(cookie.slice(1)).toEqual(expect.arrayContaining(['HttpOnly', 'Path=/', 'SameSite=Strict', expect.stringMatching(/^Max-Age=\d+$/)]));
  });

  it('refuses a session decision without the CSRF token or from another site, and records the session user when allowed', async () => {
    const { cookie, csrf } = await login();
    expect((await approve({ cookie })).statusCode).toBe(403);
    expect((await approve({ cookie, 'x-csrf-token': 'forged' })).statusCode).toBe(403);
    expect((await approve({ cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' })).statusCode).toBe(403);
    expect(await state()).toBe('pending');
    const ok = await approve({ cookie, 'x-csrf-token': csrf, origin: 'http://localhost:80', host: 'localhost:80' }, { by: 'someone-else' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().audit.at(-1).by).toBe('admin');
  });

  it('accepts a plain form post with the _csrf field and redirects back to the actions page', async () => {
    const { cookie, csrf } = await login();
    const res = await web.app.inject({
      method: 'POST',
      url: '/api/actions/container-restart-piha-zigbee2mqtt/reject',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(csrf)}`,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/actions');
    expect(await state()).toBe('rejected');
  });

  it('limits failed logins to 5 per address, then answers 429 even to the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await login('admin', 'wrong-password')).res.statusCode).toBe(401);
    const blocked = await login();
    expect(blocked.res.statusCode).toBe(429);
    expect(Number(blocked.res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('logs out: the cookie no longer works', async () => {
    const { cookie, csrf } = await login();
    expect((await web.app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'x-csrf-token': csrf } })).statusCode).toBe(200);
    expect((await web.app.inject({ url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('answers 400 with the zod message for an invalid body or query', async () => {
    const token = { authorization: `Bearer ${web.creds.operatorToken}` };
    const bad = await approve(token, { by: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('invalid_request');
    expect((await web.app.inject({ url: '/api/events?limit=0', headers: token })).statusCode).toBe(400);
    expect((await web.app.inject({ url: '/summary?format=xml', headers: token })).statusCode).toBe(400);
  });
});

describe('hub web: summary, OpenAPI and pages', () => {
  let root: string;
  let web: Web;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-'));
    web = await buildTestWeb({ root });
    await web.store.create(
      pendingAction('redeploy-piha-mosquitto', { type: 'redeploy', risk: 'guarded', service: 'mosquitto', summary: 'mosquitto keeps dying' }),
    );
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const get = (url: string) => web.app.inject({ url, headers: { authorization: `Bearer ${web.creds.viewerToken}` } });

  it('serves /summary as JSON and the same content as markdown with format=markdown', async () => {
    const json = await get('/summary');
    expect(json.headers['content-type']).toMatch(/application\/json/);
    expect(json.json().actions.pending[0].id).toBe('redeploy-piha-mosquitto');
    const md = await get('/summary?format=markdown');
    expect(md.headers['content-type']).toMatch(/text\/markdown/);
    expect(md.body).toContain('- redeploy-piha-mosquitto [pending, risk guarded] on piha/mosquitto: mosquitto keeps dying');
  });

  it('serves /summary gzipped to clients that accept it, once compressed in the background', async () => {
    const plain = (await get('/summary')).body;
    const headers = { authorization: `Bearer ${web.creds.viewerToken}`, 'accept-encoding': 'gzip, deflate' };
    let res = await web.app.inject({ url: '/summary', headers });
    for (let i = 0; i < 50 && res.headers['content-encoding'] !== 'gzip'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await web.app.inject({ url: '/summary', headers });
    }
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.rawPayload).toString('utf8')).toBe(plain);
  });

  it('lists all services or only the unhealthy ones on request, saying which', async () => {
    const all = (await get('/summary?services=all')).json();
    expect(all.servicesListed).toBe('all');
    expect(all.serviceCounts.total).toBe(all.services.length);
    const problems = (await get('/summary?services=problems')).json();
    expect(problems.servicesListed).toBe('problems');
    expect(problems.services.every((v: { status: string }) => v.status !== 'healthy')).toBe(true);
    expect((await get('/summary?services=some')).statusCode).toBe(400);
  });

  it('shows a change of the actions in the summary at once', async () => {
    await get('/summary');
    await web.store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
    expect((await get('/summary')).json().actions.pending).toHaveLength(2);
  });

  it('publishes an OpenAPI 3.1 document with the zod schemas', async () => {
    const doc = (await get('/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/summary', '/api/world', '/api/events', '/api/actions', '/api/actions/{id}/approve', '/healthz']),
    );
    expect(doc.components.schemas.Action.properties.state.enum).toContain('pending');
    expect(doc.paths['/api/events'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['since', 'node', 'type']));
  });

  it('renders every page for a viewer without decision buttons, and the guarded confirmation for an operator', async () => {
    for (const url of ['/', '/actions', '/history', '/events', '/events?node=piha&type=service_unhealthy']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
    expect((await get('/actions')).body).not.toContain('data-action="approve"');
    const op = await web.app.inject({ url: '/actions', headers: { authorization: `Bearer ${web.creds.operatorToken}` } });
    expect(op.body).toContain('data-confirm="Approve guarded redeploy redeploy-piha-mosquitto?');
  });

  it("says the program's version in /healthz (no auth) and in every page's footer", async () => {
    expect(HOMELAB_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect((await web.app.inject({ url: '/healthz' })).json()).toMatchObject({ ok: true, version: HOMELAB_VERSION });
    for (const url of ['/', '/actions', '/history', '/events'])
      expect((await get(url)).body, url).toContain(`<footer class="muted">homelab ${HOMELAB_VERSION}</footer>`);
  });

  it('returns only <main> content for a fragment request', async () => {
    const res = await web.app.inject({ url: '/actions', headers: { authorization: `Bearer ${web.creds.viewerToken}`, 'x-fragment': '1' } });
    expect(res.body.startsWith('<h1>Actions</h1>')).toBe(true);
  });
});
