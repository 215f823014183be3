import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addToken, authFilePath, initialCredentialsPath, loadOrCreateAuth } from './auth-file';
import { AuthState } from './auth-state';
import { hashPassword, verifyPassword } from './passwords';
import { LoginLimiter } from './rate-limit';
import { SessionStore } from './sessions';

describe('web auth building blocks', () => {
  it('verifies a password against its scrypt hash and nothing else', async () => {
    const h = await hashPassword('correct horse');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('correct hors', h)).toBe(false);
    expect(await verifyPassword('correct horse', 'scrypt$1$1$1$x$y')).toBe(false);
    expect(await hashPassword('correct horse')).not.toBe(h); // salted
  });

  it('creates admin, an operator and a viewer token on first start, with secrets only in the credentials file (0600)', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-auth-'));
    const first = await loadOrCreateAuth(root);
    expect(first.createdCredentialsFile).toBe(initialCredentialsPath(root));
    const creds = JSON.parse(await fs.readFile(initialCredentialsPath(root), 'utf8'));
    const stored = await fs.readFile(authFilePath(root), 'utf8');
    for (const secret of [creds.password, creds.operatorToken, creds.viewerToken]) expect(stored).not.toContain(secret);
    expect((await fs.stat(initialCredentialsPath(root))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(authFilePath(root))).mode & 0o777).toBe(0o600);
    const state = new AuthState(root, first.auth);
    expect(await state.login('admin', creds.password)).toMatchObject({ name: 'admin', role: 'operator' });
    expect(state.byToken(creds.viewerToken)).toEqual({ name: 'viewer-token', role: 'viewer' });
    // A second start keeps the same credentials and writes nothing new.
    const again = await loadOrCreateAuth(root);
    expect(again.createdCredentialsFile).toBeUndefined();
    expect(again.auth).toEqual(first.auth);
    const token = await addToken(root, 'mirror-piha', 'viewer');
    expect((await loadOrCreateAuth(root)).auth.tokens.map((t) => t.name)).toContain('mirror-piha');
    expect(token).toMatch(/^hlv_/);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('uses HOMELAB_ADMIN_PASSWORD_HASH instead of generating a password', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-auth-'));
    const hash = await hashPassword('from-config');
    const loaded = await loadOrCreateAuth(root, { adminPasswordHash: hash });
    expect(JSON.parse(await fs.readFile(initialCredentialsPath(root), 'utf8')).password).toBeNull();
    expect(await new AuthState(root, loaded.auth).login('admin', 'from-config')).not.toBeNull();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('forgets failed logins once the window has passed, and on success', () => {
    let now = 0;
    const l = new LoginLimiter(2, 1000, () => now);
    l.fail(['ip:a']);
    l.fail(['ip:a']);
    expect(l.retryAfter(['ip:a'])).toBe(1);
    expect(l.retryAfter(['ip:b'])).toBe(0);
    now = 1001;
    expect(l.retryAfter(['ip:a'])).toBe(0);
    l.fail(['ip:a']);
    l.succeed(['ip:a']);
    l.fail(['ip:a']);
    expect(l.retryAfter(['ip:a'])).toBe(0);
  });

  it('expires sessions', () => {
    let now = 0;
    const s = new SessionStore(1000, () => now);
    const session = s.create('admin', 'operator', 'credential-1');
    expect(s.get(session.id)?.user).toBe('admin');
    now = 1000;
    expect(s.get(session.id)).toBeNull();
  });
});
