import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@homelab/logging';
import { CREDENTIALS_FILE, EMPTY_CREDENTIALS, readCredentials, verifyScrypt, type Credential, type CredentialsFile } from './credentials';

/**
 * The broker's view of the credentials file: re-read when it changes (so
 * `homelab nodes add` takes effect without a restart), with verified secrets
 * remembered by digest so a reconnect storm costs one scrypt per identity.
 */
export class CredentialStore {
  private creds: CredentialsFile = EMPTY_CREDENTIALS;
  private stamp = '';
  private verified = new Map<string, string>();
  private readonly file: string;

  constructor(
    private readonly root: string,
    private readonly onReloadError: (err: unknown) => void = () => undefined,
  ) {
    this.file = path.join(root, CREDENTIALS_FILE);
  }

  /** First load: a broken file stops the hub (HubError naming the file). */
  async load(): Promise<CredentialsFile> {
    await this.refresh(true);
    return this.creds;
  }

  current(): CredentialsFile {
    return this.creds;
  }

  /** Re-reads the file if its mtime or size changed; a broken file keeps the last good set. */
  async refresh(strict = false): Promise<void> {
    const st = await fs.stat(this.file).catch(() => null);
    const stamp = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
    if (stamp === this.stamp) return;
    try {
      this.creds = await readCredentials(this.root);
      this.stamp = stamp;
      this.verified.clear();
    } catch (err) {
      if (strict) throw err;
      this.onReloadError(err);
    }
  }

  /** The role of `username` if `password` is its secret, else null. */
  async verify(username: string, password: Buffer | string): Promise<Credential | null> {
    await this.refresh();
    const cred = this.creds.users[username];
    if (!cred) return null;
    const secret = Buffer.isBuffer(password) ? password.toString('utf8') : password;
    const digest = createHash('sha256').update(username).update('\0').update(secret).digest('base64');
    if (this.verified.get(username) === digest) return cred;
    if (!(await verifyScrypt(secret, cred.scrypt))) return null;
    this.verified.set(username, digest);
    return cred;
  }
}

/**
 * Loads the store for the embedded broker. A broken file stops the hub; an
 * empty one is allowed (a fresh install) but every client will be refused,
 * so say how to add one.
 */
export async function loadCredentialStore(root: string, log: Logger): Promise<CredentialStore> {
  const store = new CredentialStore(root, (err) => log.error({ err }, 'credentials file unreadable; keeping the previous credentials'));
  const creds = await store.load();
  const count = Object.keys(creds.users).length;
  if (count === 0) {
    log.warn(
      { file: path.join(root, CREDENTIALS_FILE) },
      'no MQTT credentials yet: every agent will be refused. Add one per node with `homelab nodes add <node> --root <root>`',
    );
  } else log.info({ identities: count }, 'MQTT credentials loaded');
  return store;
}
