import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostServicesFile } from '@homelab/contracts';
import { buildTestWeb } from './testing';

type Web = Awaited<ReturnType<typeof buildTestWeb>>;
const desired: Record<string, HostServicesFile> = { piha: { node: 'piha', services: { z2m: { monitor: true } } } };

describe('POST /api/actions: an operator proposes an action now', () => {
  let root: string;
  let web: Web;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-propose-'));
    web = await buildTestWeb({ root, desired: () => desired });
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const propose = (token: string, body: unknown, headers: Record<string, string> = {}) =>
    web.app.inject({
      method: 'POST',
      url: '/api/actions',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });

  it('refuses a viewer (403) and writes no action', async () => {
    const res = await propose(web.creds.viewerToken, { type: 'container_restart', node: 'piha', service: 'z2m' });
    expect(res.statusCode).toBe(403);
    expect(await web.store.list()).toEqual([]);
  });

  it('writes a pending action with who, via and from in its audit, and refuses a second one for the service (409)', async () => {
    const res = await propose(
      web.creds.operatorToken,
      { type: 'container_restart', node: 'piha', service: 'z2m', by: 'alice', note: 'stuck' },
      {
        'x-homelab-client': 'cli',
        'user-agent': 'homelab-test',
      },
    );
    expect(res.statusCode, res.body).toBe(200);
    const stored = await web.store.get('container-restart-piha-z2m');
    expect(stored).toMatchObject({ state: 'pending', risk: 'low', drift: { type: 'operator_request' } });
    expect(stored!.audit).toEqual([
      { at: stored!.createdAt, state: 'pending', by: 'alice', via: 'cli', note: 'stuck', from: { ip: '127.0.0.1', userAgent: 'homelab-test' } },
    ]);
    const again = await propose(web.creds.operatorToken, { type: 'container_restart', node: 'piha', service: 'z2m' });
    expect(again.statusCode).toBe(409);
  });

  it('offers an operator the restart on the node page as a plain form, signed in by session; a viewer sees no such form', async () => {
    const login = async (user: string, password: string) => {
      const res = await web.app.inject({ method: 'POST', url: '/login', payload: { user, password } });
      return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrf as string };
    };
    const viewer = await login('viewer', 'viewer-password');
    expect((await web.app.inject({ url: '/nodes/piha', headers: { cookie: viewer.cookie, accept: 'text/html' } })).body).not.toContain(
      'value="container_restart"',
    );
    const admin = await login('admin', web.creds.password!);
    const page = await web.app.inject({ url: '/nodes/piha', headers: { cookie: admin.cookie, accept: 'text/html' } });
    expect(page.body).toContain('data-propose="container_restart/z2m"');
    const posted = await web.app.inject({
      method: 'POST',
      url: '/api/actions',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'a-browser' },
      payload: `_csrf=${encodeURIComponent(admin.csrf)}&node=piha&service=z2m&type=container_restart`,
    });
    expect(posted.statusCode, posted.body).toBe(303);
    expect(posted.headers.location).toBe('/actions');
    expect((await web.store.get('container-restart-piha-z2m'))!.audit[0]).toMatchObject({ by: 'admin', via: 'api', from: { userAgent: 'a-browser' } });
  });

  it('answers 404 for a service outside desired state and 400 for an unknown type', async () => {
    expect((await propose(web.creds.operatorToken, { type: 'container_restart', node: 'piha', service: 'nope' })).statusCode).toBe(404);
    expect((await propose(web.creds.operatorToken, { type: 'reboot', node: 'piha' })).statusCode).toBe(400);
    expect(await web.store.list()).toEqual([]);
  });
});
