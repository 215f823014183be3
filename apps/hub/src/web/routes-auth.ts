import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { httpStatusOf } from '@homelab/contracts';
import type { AuthState } from './auth/auth-state';
import { crossSite } from './auth/guard';
import { safeNext } from './auth/next-path';
import type { LoginLimiter } from './auth/rate-limit';
import { sessionIdOf, setSessionCookie, type SessionStore } from './auth/sessions';
import { sendError } from './http-errors';
import { loginPage } from './pages/login';
import { errorResponses, LoginBody, LoginOk, Me, type ZodApp } from './zod-routes';

const isForm = (req: FastifyRequest) => String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

export interface AuthRoutesDeps {
  auth: AuthState;
  sessions: SessionStore;
  limiter: LoginLimiter;
}

export function registerAuthRoutes(app: ZodApp, deps: AuthRoutesDeps): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/login', { schema: { hide: true } }, async (req, reply) => {
    const next = safeNext((req.query as Record<string, string | undefined>).next);
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'self'; script-src 'none'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
      .header('x-frame-options', 'DENY')
      .send(loginPage({ next }).text);
  });

  app.post(
    '/login',
    {
      // A form gets the login page back with the reason, so the handler answers a bad body itself (after the cross-site check).
      attachValidation: true,
      schema: {
        summary: 'Operator login: sets the HttpOnly SameSite=Strict session cookie; 5 failures per 15 min per address or user, then 429',
        tags: ['auth'],
        security: [],
        body: LoginBody,
        response: { 200: LoginOk, ...errorResponses('invalid_request', 'unauthorized', 'csrf', 'rate_limited') },
      },
    },
    async (req, reply) => {
      const form = isForm(req);
      const fail = (code: 'invalid_request' | 'rate_limited' | 'unauthorized', message: string, next?: string) =>
        form
          ? (reply as FastifyReply)
              .code(httpStatusOf(code))
              .type('text/html; charset=utf-8')
              .send(loginPage({ next: safeNext(next), error: message }).text)
          : sendError(reply, code, message);
      if (crossSite(req)) return sendError(reply, 'csrf', 'cross-site login refused');
      if (req.validationError)
        return fail('invalid_request', req.validationError instanceof z.ZodError ? z.prettifyError(req.validationError) : req.validationError.message);
      const b = { data: req.body };
      const keys = [`ip:${req.ip}`, `user:${b.data.user}`];
      const wait = deps.limiter.retryAfter(keys);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return fail('rate_limited', `too many failed logins; try again in ${wait} s`, b.data.next);
      }
      const who = await deps.auth.login(b.data.user, b.data.password);
      if (!who) {
        deps.limiter.fail(keys);
        req.log.warn({ user: b.data.user, ip: req.ip }, 'failed login');
        return fail('unauthorized', 'wrong user or password', b.data.next);
      }
      deps.limiter.succeed(keys);
      const s = deps.sessions.create(who.name, who.role, who.credential);
      setSessionCookie(reply as FastifyReply, s.id, { maxAgeSec: deps.sessions.ttlSeconds, secure: req.protocol === 'https' });
      if (form) return reply.redirect(safeNext(b.data.next), 303);
      return { user: who.name, role: who.role, csrf: s.csrf };
    },
  );

  app.post('/logout', { schema: { summary: 'Ends the session', tags: ['auth'], response: { 200: z.object({ ok: z.literal(true) }) } } }, async (req, reply) => {
    const id = sessionIdOf(req);
    if (id) deps.sessions.delete(id);
    setSessionCookie(reply as FastifyReply, '', { maxAgeSec: 0, secure: req.protocol === 'https' });
    return isForm(req) ? reply.redirect('/login', 303) : reply.send({ ok: true });
  });

  app.get(
    '/api/me',
    { schema: { summary: 'Who is calling, with the CSRF token of a session', tags: ['auth'], response: { 200: Me, ...errorResponses('unauthorized') } } },
    async (req, reply) => {
      const p = req.principal!;
      return reply.send({ user: p.name, role: p.role, via: p.via, ...(p.session ? { csrf: p.session.csrf } : {}) });
    },
  );
}
