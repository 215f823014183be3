import fs from 'node:fs/promises';
import type { Logger } from '@homelab/logging';
import { authFilePath, readAuthFile, type AuthFile, type Role } from './auth-file';
import { credentialFingerprint, hashToken, verifyPassword } from './passwords';

/**
 * Who may do what, from `<root>/auth/auth.json`. The file is re-read when
 * its mtime changes (checked at most every 2 s), so `homelab auth token`
 * takes effect without a hub restart. A web session holds the fingerprint of
 * the credential it was signed in with (credentialOf), so a new password hash,
 * a new role or a removed user ends its sessions at the next reload.
 */
export class AuthState {
  private tokens = new Map<string, { name: string; role: Role }>();
  private users = new Map<string, { role: Role; passwordHash: string; credential: string }>();
  private mtimeMs = 0;
  private checkedAt = 0;

  constructor(
    private readonly root: string,
    auth: AuthFile,
    private readonly log?: Logger,
    private readonly overrides: { adminPasswordHash?: string } = {},
    private readonly now: () => number = Date.now,
  ) {
    this.apply(auth);
  }

  private apply(auth: AuthFile): void {
    this.tokens = new Map(auth.tokens.map((t) => [t.sha256, { name: t.name, role: t.role }]));
    const user = (role: Role, passwordHash: string) => ({ role, passwordHash, credential: credentialFingerprint(role, passwordHash) });
    this.users = new Map(auth.users.map((u) => [u.name, user(u.role, u.passwordHash)]));
    if (this.overrides.adminPasswordHash) this.users.set('admin', user('operator', this.overrides.adminPasswordHash));
  }

  async refresh(): Promise<void> {
    const now = this.now();
    if (now - this.checkedAt < 2000) return;
    this.checkedAt = now;
    try {
      const st = await fs.stat(authFilePath(this.root));
      if (st.mtimeMs === this.mtimeMs) return;
      const first = this.mtimeMs === 0;
      this.mtimeMs = st.mtimeMs;
      if (first) return; // the constructor's copy is this version
      const auth = await readAuthFile(authFilePath(this.root));
      if (auth) {
        this.apply(auth);
        this.log?.info({ users: this.users.size, tokens: this.tokens.size }, 'auth file reloaded');
      }
    } catch (err) {
      // Keep the last good version: a half-edited file must not lock the operator out.
      this.log?.warn({ err }, 'could not reload the auth file; keeping the previous one');
    }
  }

  byToken(token: string): { name: string; role: Role } | null {
    if (!token || token.length > 512) return null;
    return this.tokens.get(hashToken(token)) ?? null;
  }

  /**
   * Verifies a login; the hash is checked even for an unknown user so timing does not tell which users exist.
   * `credential`: what the session stores to tell later whether this user's credential is still the same.
   */
  async login(user: string, password: string): Promise<{ name: string; role: Role; credential: string } | null> {
    const u = this.users.get(user);
    const ok = await verifyPassword(password, u?.passwordHash ?? DUMMY_HASH);
    // A reload during the check is harmless: the session gets the old credential and ends at its first request.
    return u && ok ? { name: user, role: u.role, credential: u.credential } : null;
  }

  /** The fingerprint of `user`'s current password hash and role; null when the user no longer exists. */
  credentialOf(user: string): string | null {
    return this.users.get(user)?.credential ?? null;
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
