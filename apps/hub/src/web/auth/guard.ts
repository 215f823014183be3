import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from './auth-file';
import type { AuthState } from './auth-state';
import { sendError } from '../http-errors';
import { sessionIdOf, type Session, type SessionStore } from './sessions';

export interface Principal {
  name: string;
  role: Role;
  via: 'session' | 'token';
  session?: Session;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Reachable without credentials: liveness, the login page and static assets. */
const PUBLIC_PATHS = new Set(['/healthz', '/login', '/favicon.ico']);
const isPublic = (path: string) => PUBLIC_PATHS.has(path) || path.startsWith('/assets/');
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * Routes that check a credential of their own instead of a session or token: Telegram posts
 * button taps with the secret token the hub gave it (docs/notifications.md "Telegram").
 */
const OWN_CREDENTIAL = new Set(['/telegram/webhook']);
/** Mutations any signed-in principal may make (their own session). */
const SELF_SERVICE = new Set(['/logout']);

/** A browser page (redirected to the login) rather than an API client (401). */
function wantsPage(req: FastifyRequest, path: string): boolean {
  return (!path.startsWith('/api/') || path.startsWith('/api/docs')) && path !== '/summary' && String(req.headers.accept ?? '').includes('text/html');
}

export function identify(req: FastifyRequest, auth: AuthState, sessions: SessionStore): Principal | null {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) {
    const t = auth.byToken(header.slice(7).trim());
    return t ? { ...t, via: 'token' } : null;
  }
  const s = sessions.get(sessionIdOf(req));
  if (!s) return null;
  // Signed in with a password that was since replaced, a role since changed, or a user since removed.
  if (auth.credentialOf(s.user) !== s.credential) {
    sessions.delete(s.id);
    return null;
  }
  return { name: s.user, role: s.role, via: 'session', session: s };
}

/**
 * A request from a page of another site: an Origin (or, without one, a
 * Referer) that is not this host. Browsers always send Origin on a
 * cross-origin POST, so a forged form or fetch is caught here even before
 * the CSRF token is compared.
 */
export function crossSite(req: FastifyRequest): boolean {
  const source = req.headers.origin ?? req.headers.referer;
  if (typeof source !== 'string' || source === '') return false;
  try {
    const src = new URL(source);
    // Compare as URLs so that a default port (`:80`) written or omitted is the same host.
    return src.host !== new URL(`${src.protocol}//${req.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}

function csrfToken(req: FastifyRequest): string | undefined {
  const h = req.headers['x-csrf-token'];
  if (typeof h === 'string') return h;
  const body = req.body as Record<string, unknown> | undefined;
  return typeof body?._csrf === 'string' ? body._csrf : undefined;
}

/**
 * One gate for every route, so no route can forget it:
 * - reads (GET) need any principal, except PUBLIC_PATHS;
 * - mutations need the operator role; with a session cookie also a same-site
 *   Origin and the session's CSRF token (header `x-csrf-token` or form field
 *   `_csrf`). A bearer token is never sent by a browser on its own, so it
 *   needs neither.
 * Reads are checked in onRequest; mutations in preValidation, after the body
 * (which may carry `_csrf`) is parsed and before the route's schema looks at
 * it, so a refused request never learns whether its body was valid.
 */
export function installGuard(app: FastifyInstance, auth: AuthState, sessions: SessionStore): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    await auth.refresh();
    req.principal = identify(req, auth, sessions);
    const path = req.url.split('?')[0]!;
    if (isPublic(path) || OWN_CREDENTIAL.has(path)) return;
    if (!req.principal) return deny(req, reply, path);
  });
  app.addHook('preValidation', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (SAFE_METHODS.has(req.method) || path === '/login' || OWN_CREDENTIAL.has(path)) return;
    const p = req.principal;
    if (!p) return deny(req, reply, path);
    if (p.via === 'session') {
      if (crossSite(req)) return sendError(reply, 'csrf', 'cross-site request refused');
      if (csrfToken(req) !== p.session!.csrf) return sendError(reply, 'csrf', 'missing or wrong CSRF token (x-csrf-token header or _csrf field)');
    }
    if (!SELF_SERVICE.has(path) && p.role !== 'operator') {
      return sendError(reply, 'forbidden', `${p.name} is a ${p.role}: read-only`);
    }
  });
}

function deny(req: FastifyRequest, reply: FastifyReply, path: string) {
  if (req.method === 'GET' && wantsPage(req, path)) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
  reply.header('www-authenticate', 'Bearer realm="homelab"');
  return sendError(reply, 'unauthorized', 'sign in at /login or send Authorization: Bearer <token> (see docs/ui-api.md)');
}
