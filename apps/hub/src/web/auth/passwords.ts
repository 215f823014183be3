import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: ~50 ms per hash on a small machine, 16 MiB of memory. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$<salt b64url>$<key b64url>`: everything needed to verify, nothing secret. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_BYTES, { ...PARAMS, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export const PASSWORD_HASH_PATTERN = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/;

/** Constant-time check of a password against a hash from hashPassword; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!PASSWORD_HASH_PATTERN.test(stored)) return false;
  const [, n, r, p, salt, key] = stored.split('$');
  const expected = Buffer.from(key!, 'base64url');
  const N = Number(n);
  // Refuse absurd parameters from a tampered file instead of burning memory on them.
  if (!(N >= 1024 && N <= 1 << 20) || Number(r) > 32 || Number(p) > 16 || expected.length < 16) return false;
  const actual = await scryptAsync(password, Buffer.from(salt!, 'base64url'), expected.length, { N, r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/**
 * What a web session remembers of the credential it was issued for: a digest
 * of the role and password hash (never the hash itself), so replacing either
 * is seen without keeping secrets in the session table.
 */
export const credentialFingerprint = (role: string, passwordHash: string): string =>
  createHash('sha256').update(`${role}\u0000${passwordHash}`, 'utf8').digest('base64url');

/** API tokens are stored as their SHA-256 only (they are long random strings; no salt or stretching needed). */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A random secret, e.g. `hlt_…` for a token; 24 bytes = 192 bits. */
export const newSecret = (prefix: string, bytes = 24): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;
