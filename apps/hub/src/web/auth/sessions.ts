import { randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie'; // reply.setCookie
import { parse as parseCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from './auth-file';

export interface Session {
  id: string;
  user: string;
  role: Role;
  /** Sent back by the page in `x-csrf-token` (or the `_csrf` form field) on every mutation. */
  csrf: string;
  expiresAt: number;
  /** AuthState.credentialOf(user) at sign-in: the session ends when it changes (docs/ui-api.md "Sessions"). */
  credential: string;
}

export const SESSION_COOKIE = 'homelab_session';

/**
 * Operator sessions, in memory: a hub restart logs everybody out (the API
 * tokens of the CLI and automation are unaffected). Bounded in count.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs = 12 * 60 * 60_000,
    private readonly now: () => number = Date.now,
    private readonly max = 10_000,
  ) {}

  create(user: string, role: Role, credential: string): Session {
    if (this.sessions.size >= this.max) this.prune();
    // Still full of live sessions: the oldest goes.
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      role,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: this.now() + this.ttlMs,
      credential,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** The session id the request's cookie names, if any (with the parser @fastify/cookie uses). */
export function sessionIdOf(req: FastifyRequest): string | undefined {
  return parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
}

/** Sets (or, with maxAgeSec 0, clears) the session cookie: HttpOnly (no script reads it), SameSite=Strict (no cross-site request carries it); Secure when served over TLS. */
export function setSessionCookie(reply: FastifyReply, value: string, opts: { maxAgeSec: number; secure: boolean }): void {
  reply.setCookie(SESSION_COOKIE, value, { path: '/', httpOnly: true, sameSite: 'strict', maxAge: opts.maxAgeSec, secure: opts.secure });
}
