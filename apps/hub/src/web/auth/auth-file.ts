import { readJsonFile, writeFileAtomic } from '@homelab/durable-fs';
import path from 'node:path';
import { z } from 'zod';
import { hashPassword, hashToken, newSecret, PASSWORD_HASH_PATTERN } from './passwords';

/** operator: reads and decides (approve/reject); viewer: reads only. */
export const Role = z.enum(['operator', 'viewer']);
export type Role = z.infer<typeof Role>;

const PrincipalName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'letters, digits, _ . @ - (max 64)');

export const AuthUser = z.object({
  name: PrincipalName,
  role: Role,
  passwordHash: z.string().regex(PASSWORD_HASH_PATTERN, 'must be a scrypt hash from `homelab auth hash-password`'),
});
export const AuthToken = z.object({ name: PrincipalName, role: Role, sha256: z.string().regex(/^[0-9a-f]{64}$/), createdAt: z.string().optional() });

/** The `version` field of auth.json (docs/upgrade.md). */
export const AUTH_FILE_VERSION = 1;

/** `<root>/auth/auth.json`: users (password hashes) and API tokens (SHA-256 only). No secret in clear. */
export const AuthFile = z.object({ version: z.literal(AUTH_FILE_VERSION), users: z.array(AuthUser), tokens: z.array(AuthToken) });
export type AuthFile = z.infer<typeof AuthFile>;

export const authFilePath = (root: string) => path.join(root, 'auth', 'auth.json');
/** Written once, on the very first start, with the generated password and tokens in clear (mode 0600). */
export const initialCredentialsPath = (root: string) => path.join(root, 'auth', 'initial-credentials.json');

export const InitialCredentials = z.object({
  createdAt: z.string(),
  hub: z.string().optional(),
  user: z.string(),
  password: z.string().nullable(),
  operatorToken: z.string(),
  viewerToken: z.string(),
});
export type InitialCredentials = z.infer<typeof InitialCredentials>;

export async function writePrivateFileAtomic(file: string, data: string): Promise<void> {
  await writeFileAtomic(file, data, { mode: 0o600, mkdirMode: 0o700 });
}

export async function readAuthFile(file: string): Promise<AuthFile | null> {
  const res = await readJsonFile(file, AuthFile);
  if (res.kind === 'missing') return null;
  if (res.kind === 'corrupt') throw new Error(`${file}: ${res.problem}`);
  return res.value;
}

export interface LoadedAuth {
  auth: AuthFile;
  /** Set when this start created the auth file: where the generated credentials are. */
  createdCredentialsFile?: string;
}

/**
 * Loads `<root>/auth/auth.json`, creating it on the first start: an operator
 * `admin` with a generated password (or `adminPasswordHash` from the config,
 * then no password is generated), an operator API token and a viewer token.
 * The clear-text secrets go to initial-credentials.json (0600) only.
 * `adminPasswordHash` given on later starts replaces admin's hash.
 */
export async function loadOrCreateAuth(root: string, opts: { adminPasswordHash?: string; now?: Date } = {}): Promise<LoadedAuth> {
  const file = authFilePath(root);
  const existing = await readAuthFile(file);
  if (existing) {
    if (!opts.adminPasswordHash) return { auth: existing };
    const users = existing.users.filter((u) => u.name !== 'admin');
    return { auth: { ...existing, users: [{ name: 'admin', role: 'operator', passwordHash: opts.adminPasswordHash }, ...users] } };
  }
  const now = (opts.now ?? new Date()).toISOString();
  const password = opts.adminPasswordHash ? null : newSecret('', 15);
  const operatorToken = newSecret('hlo_');
  const viewerToken = newSecret('hlv_');
  const auth: AuthFile = {
    version: AUTH_FILE_VERSION,
    users: [{ name: 'admin', role: 'operator', passwordHash: opts.adminPasswordHash ?? (await hashPassword(password!)) }],
    tokens: [
      { name: 'admin-token', role: 'operator', sha256: hashToken(operatorToken), createdAt: now },
      { name: 'viewer-token', role: 'viewer', sha256: hashToken(viewerToken), createdAt: now },
    ],
  };
  const creds: InitialCredentials = { createdAt: now, user: 'admin', password, operatorToken, viewerToken };
  // Credentials first: a crash between the two writes regenerates both next time.
  await writePrivateFileAtomic(initialCredentialsPath(root), `${JSON.stringify(creds, null, 2)}\n`);
  await writePrivateFileAtomic(file, `${JSON.stringify(auth, null, 2)}\n`);
  return { auth, createdCredentialsFile: initialCredentialsPath(root) };
}

/** Adds an API token to the auth file and returns it in clear (the file keeps its hash only). */
export async function addToken(root: string, name: string, role: Role): Promise<string> {
  const file = authFilePath(root);
  const auth = await readAuthFile(file);
  if (!auth) throw new Error(`${file} does not exist yet; start the hub once (it creates it)`);
  const token = newSecret(role === 'operator' ? 'hlo_' : 'hlv_');
  const next: AuthFile = {
    ...auth,
    tokens: [...auth.tokens.filter((t) => t.name !== PrincipalName.parse(name)), { name, role, sha256: hashToken(token), createdAt: new Date().toISOString() }],
  };
  await writePrivateFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
  return token;
}
