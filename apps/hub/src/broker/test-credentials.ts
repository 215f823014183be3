import type { CredentialCheck } from './auth';
import type { Credential, CredentialsFile, Role } from './credentials';

export interface MemoryCredentials extends CredentialCheck {
  /** Adds or replaces (rotates) an identity. */
  set(name: string, user: { role: Role; secret: string }): void;
  remove(name: string): void;
}

/** Credentials in memory for broker tests: secrets compared in clear (the hashing has its own tests). */
export function memoryCredentials(initial: Record<string, { role: Role; secret: string }>): MemoryCredentials {
  const users = { ...initial };
  const file: CredentialsFile = { version: 1, users: {} };
  let version = 0;
  const set = (name: string, u: { role: Role; secret: string }) => {
    users[name] = u;
    // The "hash" changes with every new secret, as a real one would.
    file.users[name] = { role: u.role, scrypt: `scrypt$${++version}`, mosquitto: 'x', createdAt: '2026-01-01T00:00:00.000Z' };
  };
  for (const [name, u] of Object.entries(initial)) set(name, u);
  return {
    current: () => file,
    set,
    remove: (name) => {
      delete users[name];
      delete file.users[name];
    },
    verify: async (username, password) => {
      const u = users[username];
      const given = Buffer.isBuffer(password) ? password.toString('utf8') : password;
      return u && u.secret === given ? (file.users[username] as Credential) : null;
    },
  };
}
