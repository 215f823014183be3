import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { REPO_ROOT, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

const ACTION = 'container-restart-piha-zigbee2mqtt';

/** `homelab auth hash-password` as an operator runs it, the password on stdin. */
async function hashPasswordWithCli(password: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'apps/cli/bin/homelab.mjs'), 'auth', 'hash-password'], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stdin.end(`${password}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, out).toBe(0);
  return out.trim();
}

/**
 * The browser side of the real hub process: a session cookie dies with the
 * credential it was issued for, and a login redirects only to a local path.
 */
describe('web sessions and login redirects on the real hub', () => {
  let tmp: TempDir;
  let hub: HubProcess;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-sessions-');
    const root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n' });
    const store = new FsActionStore({ root });
    await store.init();
    await store.create(pendingAction(ACTION));
    hub = await startHubProcess({ root, hostsDir, name: 'web-sessions-hub' });
  });

  afterAll(async () => {
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  const jsonLogin = (user: string, password: string) =>
    fetch(`${hub.httpUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  const formLogin = (next: string) =>
    fetch(`${hub.httpUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'admin', password: hub.auth.password!, next }).toString(),
    });

  it.each(['/\t/evil.example', '/x\r\nset-cookie: stolen=1', '/\\evil.example'])('sends a login with next=%j to / of this hub', async (next) => {
    const res = await formLogin(next);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.getSetCookie().join(' ')).not.toContain('stolen');
  });

  it('sends a login back to the local page it came from', async () => {
    const res = await formLogin('/nodes/piha?x=1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/nodes/piha?x=1');
  });

  it('refuses the old session cookie on read and on approve once admin’s password hash is replaced in the auth file', async () => {
    const login = await jsonLogin('admin', hub.auth.password!);
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const { csrf } = (await login.json()) as { csrf: string };
    const me = () => fetch(`${hub.httpUrl}/api/me`, { headers: { cookie } });
    expect((await me()).status).toBe(200);

    const newPassword = 'a-completely-new-password';
    const hash = await hashPasswordWithCli(newPassword);
    expect(hash).toMatch(/^scrypt\$/);
    const file = path.join(hub.root, 'auth/auth.json');
    const auth = JSON.parse(await fs.readFile(file, 'utf8'));
    auth.users = auth.users.map((u: { name: string }) => (u.name === 'admin' ? { ...u, passwordHash: hash } : u));
    await fs.writeFile(file, JSON.stringify(auth, null, 2));

    // The hub re-reads the file within seconds (at most every 2 s, on a request).
    await waitFor(async () => (await me()).status === 401, { timeoutMs: 15_000, what: 'the old session refused after the password change' });
    const summary = await fetch(`${hub.httpUrl}/summary`, { headers: { cookie } });
    expect(summary.status).toBe(401);
    const approve = await fetch(`${hub.httpUrl}/api/actions/${ACTION}/approve`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(approve.status).toBe(401);
    const action = (await (await hub.api(`/api/actions/${ACTION}`)).json()) as { state: string };
    expect(action.state).toBe('pending');

    expect((await jsonLogin('admin', hub.auth.password!)).status).toBe(401);
    const again = await jsonLogin('admin', newPassword);
    expect(again.status).toBe(200);
    const fresh = again.headers.getSetCookie()[0]!.split(';')[0]!;
    expect((await fetch(`${hub.httpUrl}/api/me`, { headers: { cookie: fresh } })).status).toBe(200);
  });
});
