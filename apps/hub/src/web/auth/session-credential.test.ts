import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authFilePath, loadOrCreateAuth, readAuthFile, writePrivateFileAtomic, type AuthFile, type InitialCredentials } from './auth-file';
import { AuthState } from './auth-state';
import { identify } from './guard';
import { hashPassword } from './passwords';
import { SESSION_COOKIE, SessionStore } from './sessions';

describe('a web session is bound to the credential it was signed in with', () => {
  let root: string;
  let now: number;
  let auth: AuthState;
  let sessions: SessionStore;
  let password: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-session-'));
    const loaded = await loadOrCreateAuth(root);
    password = (JSON.parse(await fs.readFile(loaded.createdCredentialsFile!, 'utf8')) as InitialCredentials).password!;
    loaded.auth.users.push({ name: 'alice', role: 'operator', passwordHash: await hashPassword('alice-password') });
    await writePrivateFileAtomic(authFilePath(root), JSON.stringify(loaded.auth));
    now = 1_000_000;
    auth = new AuthState(root, loaded.auth, undefined, {}, () => now);
    await auth.refresh(); // takes the file's current version as the loaded one
    sessions = new SessionStore(60 * 60_000, () => now);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const signIn = async (user: string, pw: string) => {
    const who = (await auth.login(user, pw))!;
    return sessions.create(who.name, who.role, who.credential);
  };
  const requestWith = (id: string) => ({ headers: { cookie: `${SESSION_COOKIE}=${id}` } }) as unknown as FastifyRequest;
  /** What an operator does: edit auth.json; the hub sees it at its next check (at most 2 s later). */
  const editAuthFile = async (edit: (a: AuthFile) => AuthFile) => {
    const file = authFilePath(root);
    await writePrivateFileAtomic(file, JSON.stringify(edit((await readAuthFile(file))!)));
    const later = new Date(Date.now() + 5000);
    await fs.utimes(file, later, later);
    now += 3000;
    await auth.refresh();
  };

  it('ends the session when the user’s password hash is replaced, and lets the new password sign in', async () => {
    const s = await signIn('admin', password);
    expect(identify(requestWith(s.id), auth, sessions)).toMatchObject({ name: 'admin', via: 'session' });
    const newHash = await hashPassword('a-new-password');
    await editAuthFile((a) => ({ ...a, users: a.users.map((u) => (u.name === 'admin' ? { ...u, passwordHash: newHash } : u)) }));
    expect(identify(requestWith(s.id), auth, sessions)).toBeNull();
    expect(sessions.get(s.id)).toBeNull();
    expect(await auth.login('admin', password)).toBeNull();
    const fresh = await signIn('admin', 'a-new-password');
    expect(identify(requestWith(fresh.id), auth, sessions)).toMatchObject({ name: 'admin' });
  });

  it('ends the session when the user is removed', async () => {
    const s = await signIn('alice', 'alice-password');
    await editAuthFile((a) => ({ ...a, users: a.users.filter((u) => u.name !== 'alice') }));
    expect(identify(requestWith(s.id), auth, sessions)).toBeNull();
  });

  it('ends the session when the user’s role changes', async () => {
    const s = await signIn('alice', 'alice-password');
    await editAuthFile((a) => ({ ...a, users: a.users.map((u) => (u.name === 'alice' ? { ...u, role: 'viewer' as const } : u)) }));
    expect(identify(requestWith(s.id), auth, sessions)).toBeNull();
  });

  it('keeps the sessions of users whose credential did not change', async () => {
    const admin = await signIn('admin', password);
    const newHash = await hashPassword('another-password');
    await editAuthFile((a) => ({ ...a, users: a.users.map((u) => (u.name === 'alice' ? { ...u, passwordHash: newHash } : u)) }));
    expect(identify(requestWith(admin.id), auth, sessions)).toMatchObject({ name: 'admin', role: 'operator' });
  });
});
