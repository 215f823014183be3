import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdoptDraftView, emptyWorld, type UnmanagedContainer } from '@homelab/contracts';
import { fold } from '../observer/fold';
import { at, stored } from '../observer/test-events';
import { buildTestWeb } from './testing';

type Web = Awaited<ReturnType<typeof buildTestWeb>>;

const unmanaged: UnmanagedContainer[] = [
  { name: 'node-agent', state: 'running', adopt: false },
  { name: 'site_web_1', state: 'running', healthcheck: true, compose: { project: 'site', service: 'web', configFile: '/opt/stacks/site/docker-compose.yml' } },
  { name: 'grafana', state: 'running', image: 'grafana/grafana' },
];
const world = fold(emptyWorld(), stored({ id: 'piha-1', node: 'piha', seq: 1, ts: at(1), type: 'node_inventory', data: { unmanaged } }), { aliases: {} });

describe('adopt API: viewers read the draft, operators write the draft they saw', () => {
  let root: string;
  let web: Web;
  const file = () => path.join(root, 'hosts', 'piha', 'services.yaml');
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-adopt-'));
    web = await buildTestWeb({ root, world: () => world });
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const as = (role: 'operator' | 'viewer') => ({ authorization: `Bearer ${role === 'operator' ? web.creds.operatorToken : web.creds.viewerToken}` });
  const draft = async (role: 'operator' | 'viewer' = 'viewer', query = '') => {
    const res = await web.app.inject({ url: `/api/nodes/piha/adopt${query}`, headers: as(role) });
    expect(res.statusCode, res.body).toBe(200);
    return AdoptDraftView.parse(res.json());
  };
  const write = (body: unknown, role: 'operator' | 'viewer' = 'operator') =>
    web.app.inject({
      method: 'POST',
      url: '/api/nodes/piha/adopt',
      headers: { ...as(role), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it('shows a viewer the draft as a diff, and refuses the viewer a write (403, no file)', async () => {
    const d = await draft();
    expect(d.added.map((s) => s.name)).toEqual(['web', 'grafana']);
    expect(d.skipped).toEqual([{ container: 'node-agent', reason: 'labelled homelab.adopt=false' }]);
    expect(d.diff).toContain('+  web:');
    expect((await write({ baseRevision: d.baseRevision }, 'viewer')).statusCode).toBe(403);
    await expect(fs.stat(file())).rejects.toThrow(/ENOENT/);
  });

  it('writes the draft for an operator and has the supervisor load it at once', async () => {
    const d = await draft('operator');
    const res = await write({ baseRevision: d.baseRevision });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().written).toBe(true);
    expect(await fs.readFile(file(), 'utf8')).toBe(d.text);
    expect(web.desiredWrites()).toBe(1);
    // Written once: the next draft adds nothing the file lacks (the world still lists them until the agent reports again).
    expect((await draft()).baseRevision).not.toBe(d.baseRevision);
  });

  it('never overwrites a hand edit made after the draft was shown (409, the edit stays)', async () => {
    await fs.mkdir(path.dirname(file()), { recursive: true });
    await fs.writeFile(file(), 'node: piha\nservices: {}\n');
    const d = await draft('operator');
    await fs.writeFile(file(), 'node: piha\nservices:\n  mine: {}\n');
    const res = await write({ baseRevision: d.baseRevision });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/changed since the draft/);
    expect(await fs.readFile(file(), 'utf8')).toBe('node: piha\nservices:\n  mine: {}\n');
  });

  it('refuses to write over an invalid file without force, and replaces it with force', async () => {
    await fs.mkdir(path.dirname(file()), { recursive: true });
    await fs.writeFile(file(), 'node: piha\nservices: [\n');
    const d = await draft('operator');
    expect(d.refused).toMatch(/--force/);
    expect((await write({ baseRevision: d.baseRevision })).statusCode).toBe(409);
    expect(await fs.readFile(file(), 'utf8')).toBe('node: piha\nservices: [\n');
    const forced = await draft('operator', '?force=true');
    expect((await write({ baseRevision: forced.baseRevision, force: true })).statusCode).toBe(200);
    expect(await fs.readFile(file(), 'utf8')).toBe(forced.text);
  });

  it('refuses a services.yaml that is a symbolic link, and leaves its target alone', async () => {
    const target = path.join(root, 'elsewhere.yaml');
    await fs.writeFile(target, 'secret: 1\n');
    await fs.mkdir(path.dirname(file()), { recursive: true });
    await fs.symlink(target, file());
    const res = await web.app.inject({ url: '/api/nodes/piha/adopt', headers: as('operator') });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/symbolic link/);
    expect(await fs.readFile(target, 'utf8')).toBe('secret: 1\n');
  });

  it('offers the draft from the node page; a viewer sees the diff without a write button, an operator confirms with a plain form', async () => {
    const html = { accept: 'text/html' };
    const nodePage = await web.app.inject({ url: '/nodes/piha', headers: { ...as('viewer'), ...html } });
    expect(nodePage.body).toContain('href="/nodes/piha/adopt"');
    const viewerPage = await web.app.inject({ url: '/nodes/piha/adopt', headers: { ...as('viewer'), ...html } });
    expect(viewerPage.statusCode).toBe(200);
    expect(viewerPage.body).toContain('+++ hosts/piha/services.yaml');
    expect(viewerPage.body).not.toContain('id="adopt-write"');

    const login = await web.app.inject({ method: 'POST', url: '/login', payload: { user: 'admin', password: web.creds.password! } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const csrf = login.json().csrf as string;
    const page = await web.app.inject({ url: '/nodes/piha/adopt', headers: { cookie, ...html } });
    const baseRevision = /name="baseRevision" value="([^"]+)"/.exec(page.body)?.[1];
    expect(page.body).toContain('id="adopt-write"');
    expect(baseRevision).toBe('none');
    const form = (token: string) =>
      web.app.inject({
        method: 'POST',
        url: '/api/nodes/piha/adopt',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `_csrf=${encodeURIComponent(token)}&baseRevision=${baseRevision}`,
      });
    expect((await form('wrong')).statusCode).toBe(403);
    await expect(fs.stat(file())).rejects.toThrow(/ENOENT/);
    const posted = await form(csrf);
    expect(posted.statusCode).toBe(303);
    expect(posted.headers.location).toBe('/nodes/piha');
    expect(await fs.readFile(file(), 'utf8')).toContain('grafana: {}');
  });

  it('answers 404 for a node that never reported its containers, 400 for a name that is no node name', async () => {
    expect((await web.app.inject({ url: '/api/nodes/nobody/adopt', headers: as('viewer') })).statusCode).toBe(404);
    expect((await web.app.inject({ url: '/api/nodes/..%2Fetc/adopt', headers: as('viewer') })).statusCode).toBe(400);
  });
});
