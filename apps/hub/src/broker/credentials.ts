import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { NAME_PATTERN } from '@homelab/contracts';
import { HubError } from '../errors';
import { readJsonFile, writeFileAtomic } from '@homelab/durable-fs';
import { HUB_CLIENT_ID } from './acl';

/**
 * MQTT identities and their secrets, kept hashed in the hub's data root
 * (`state/mqtt-credentials.json`). Each secret is stored twice, never in clear:
 * a scrypt hash the embedded broker checks, and Mosquitto's own PBKDF2-SHA512
 * (`$7$`) line so `homelab broker-config` can write a password file for an
 * external broker. The secret itself is shown once, by `homelab nodes add`.
 */
export const CREDENTIALS_FILE = path.join('state', 'mqtt-credentials.json');

/** Its `version` field (docs/upgrade.md). */
export const CREDENTIALS_FILE_VERSION = 1;

/** `homeassistant`: Home Assistant's MQTT integration (docs/home-assistant.md). */
export const Role = z.enum(['node', 'hub', 'inspector', 'homeassistant']);
export type Role = z.infer<typeof Role>;

const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;
const MOSQUITTO_HASH = /^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

export const Credential = z.object({
  role: Role,
  scrypt: z.string().regex(SCRYPT_HASH, 'must be scrypt$N$r$p$salt$hash'),
  mosquitto: z.string().regex(MOSQUITTO_HASH, 'must be a Mosquitto $7$ (PBKDF2-SHA512) hash'),
  createdAt: z.string(),
});
export type Credential = z.infer<typeof Credential>;

export const CredentialsFile = z.object({
  version: z.literal(CREDENTIALS_FILE_VERSION),
  users: z.record(z.string().regex(NAME_PATTERN, 'user names follow the node name pattern'), Credential),
});
export type CredentialsFile = z.infer<typeof CredentialsFile>;

export const EMPTY_CREDENTIALS: CredentialsFile = { version: CREDENTIALS_FILE_VERSION, users: {} };

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };
/** Mosquitto 2.0 defaults to 101 iterations; more costs an external broker little per connect. */
const MOSQUITTO_ITERATIONS = 1000;

function scryptAsync(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

function pbkdf2Async(secret: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => pbkdf2(secret, salt, iterations, 64, 'sha512', (err, key) => (err ? reject(err) : resolve(key))));
}

/** A fresh secret: 192 random bits, URL-safe, no characters a shell or a .env file would trip over. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

export async function hashScrypt(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyScrypt(secret: string, stored: string): Promise<boolean> {
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash ?? '', 'base64');
  if (!expected.length) return false;
  const key = await scryptAsync(secret, Buffer.from(salt ?? '', 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/** Mosquitto's password-file hash (`mosquitto_passwd -H sha512-pbkdf2`): `$7$iterations$salt$hash`, base64. */
export async function hashMosquitto(secret: string, iterations = MOSQUITTO_ITERATIONS, salt = randomBytes(12)): Promise<string> {
  const key = await pbkdf2Async(secret, salt, iterations);
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Names that are never node names: the hub's own identity. */
export const RESERVED_NODE_NAMES: readonly string[] = [HUB_CLIENT_ID];

/** Checks a name for a role; returns the problem, or null. */
export function nameProblem(name: string, role: Role): string | null {
  if (!NAME_PATTERN.test(name)) return `'${name}' is not a valid name: lowercase letters, digits, '-' and '_', at most 63, no dots, slashes or wildcards`;
  if (role === 'hub' && name !== HUB_CLIENT_ID) return `the hub's identity is always '${HUB_CLIENT_ID}'`;
  if (role !== 'hub' && RESERVED_NODE_NAMES.includes(name)) return `'${name}' is reserved for the hub (use --role hub)`;
  return null;
}

export async function makeCredential(role: Role, secret: string, now: Date): Promise<Credential> {
  const [scryptHash, mosquitto] = await Promise.all([hashScrypt(secret), hashMosquitto(secret)]);
  return { role, scrypt: scryptHash, mosquitto, createdAt: now.toISOString() };
}

/** Reads and validates the credentials file; a missing file is an empty set. */
export async function readCredentials(root: string): Promise<CredentialsFile> {
  const file = path.join(root, CREDENTIALS_FILE);
  const res = await readJsonFile(file, CredentialsFile);
  if (res.kind === 'missing') return EMPTY_CREDENTIALS;
  if (res.kind === 'corrupt') throw new HubError('config_invalid', `${file}: ${res.problem}`);
  return res.value;
}

/** Replaces the credentials file atomically (temp + fsync + rename + fsync dir), readable by its owner only. */
export async function writeCredentials(root: string, creds: CredentialsFile): Promise<void> {
  await writeFileAtomic(path.join(root, CREDENTIALS_FILE), `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700 });
}

/**
 * Adds (or with `rotate`, replaces) one identity and returns its new secret.
 * Read-modify-write of one small file; `homelab nodes` is run by one operator at a time.
 */
export async function addCredential(root: string, name: string, opts: { role?: Role; rotate?: boolean; secret?: string; now?: Date } = {}): Promise<string> {
  const secrets = await addCredentials(root, [{ name, role: opts.role ?? 'node', ...(opts.secret ? { secret: opts.secret } : {}) }], opts);
  return secrets[name]!;
}

/** As addCredential for several identities at once (one read, one atomic write); returns name → secret. */
export async function addCredentials(
  root: string,
  entries: Array<{ name: string; role: Role; secret?: string }>,
  opts: { rotate?: boolean; now?: Date } = {},
): Promise<Record<string, string>> {
  for (const e of entries) {
    const problem = nameProblem(e.name, e.role);
    if (problem) throw new HubError('invalid_request', problem);
  }
  const creds = await readCredentials(root);
  for (const e of entries) {
    const existing = creds.users[e.name];
    if (existing && !opts.rotate) throw new HubError('conflict', `'${e.name}' already has a secret (${existing.role}); use --rotate to replace it`);
    if (existing && existing.role !== e.role) throw new HubError('conflict', `'${e.name}' is a ${existing.role}, not a ${e.role}; remove it first`);
  }
  const now = opts.now ?? new Date();
  const secrets: Record<string, string> = {};
  const made = await Promise.all(
    entries.map(async (e) => {
      const secret = e.secret ?? generateSecret();
      secrets[e.name] = secret;
      return [e.name, await makeCredential(e.role, secret, now)] as const;
    }),
  );
  await writeCredentials(root, { version: CREDENTIALS_FILE_VERSION, users: { ...creds.users, ...Object.fromEntries(made) } });
  return secrets;
}

export async function removeCredential(root: string, name: string): Promise<boolean> {
  const creds = await readCredentials(root);
  if (!creds.users[name]) return false;
  const users = { ...creds.users };
  delete users[name];
  await writeCredentials(root, { version: CREDENTIALS_FILE_VERSION, users });
  return true;
}
