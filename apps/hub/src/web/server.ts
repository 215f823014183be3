import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ACTION_ID_MAX_LENGTH, type ConfigProblem, type Finding, type HostServicesFile, type World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import type { AuthState } from './auth/auth-state';
import { installGuard } from './auth/guard';
import { LoginLimiter } from './auth/rate-limit';
import { SessionStore } from './auth/sessions';
import { answerCodedErrors, sendError } from './http-errors';
import type { LiveBus } from './live';
import type { NotifyingActionStore } from './notifying-store';
import { openApiDocument } from './openapi';
import { registerActionRoutes } from './routes-actions';
import { registerAuthRoutes } from './routes-auth';
import { registerEventRoutes } from './routes-events';
import { registerPageRoutes } from './routes-pages';
import { SummaryCache } from './summary-cache';

export interface WebDeps {
  root: string;
  world: () => World;
  desired: () => Record<string, HostServicesFile>;
  problems: () => ConfigProblem[];
  findings: () => Finding[];
  store: NotifyingActionStore;
  onDecision: () => void;
  health: () => Record<string, unknown>;
  auth: AuthState;
  live: LiveBus;
  log: Logger;
  /** Failed logins allowed per address / user in `loginWindowMs` (default 5 per 15 min). */
  loginMaxFailures?: number;
  loginWindowMs?: number;
}

const SummaryQuery = z.object({
  format: z.enum(['json', 'markdown', 'md']).default('json'),
  /** Which services the JSON lists; default: all of a small fleet, the unhealthy ones of a big one (servicesListed says which). */
  services: z.enum(['all', 'problems']).optional(),
});

/**
 * UI + JSON API on 18180 (BRIEF.md "Interfaces people use"; docs/ui-api.md).
 * Every route sits behind one guard (auth/guard.ts). Built here, listened on by the caller.
 */
export function buildWebServer(deps: WebDeps): FastifyInstance {
  // Request logs only at debug: the UI polls and streams.
  const app = Fastify({
    loggerInstance: deps.log.child({ part: 'web' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // The longest route parameter is an action id; fastify's default (100) answered 414 to valid ids.
    routerOptions: { maxParamLength: ACTION_ID_MAX_LENGTH },
  });
  answerCodedErrors(app);
  const sessions = new SessionStore();
  installGuard(app, deps.auth, sessions);
  registerAuthRoutes(app, { auth: deps.auth, sessions, limiter: new LoginLimiter(deps.loginMaxFailures, deps.loginWindowMs) });

  const summaries = new SummaryCache({
    world: deps.world,
    desired: deps.desired,
    problems: deps.problems,
    findings: deps.findings,
    actions: () => deps.store.list(),
    actionsVersion: () => deps.store.version,
  });

  app.get('/healthz', async () => ({ ok: true, ...deps.health() }));

  app.get('/summary', async (req, reply) => {
    const q = SummaryQuery.safeParse(req.query ?? {});
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    if (q.data.format === 'json') {
      reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      // A poller over the network gets it gzipped (a big fleet with many problems still makes a large list).
      if (q.data.services) return reply.send(await summaries.json(q.data.services));
      const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? await summaries.gzipJson() : null;
      return gz ? reply.header('content-encoding', 'gzip').send(gz) : reply.send(await summaries.json());
    }
    return reply.type('text/markdown; charset=utf-8').send(await summaries.markdown());
  });

  app.get('/api/world', async () => {
    const w = deps.world();
    return { services: w.services, nodes: w.nodes };
  });
  app.get('/api/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(openApiDocument()));

  registerActionRoutes(app, { store: deps.store, onDecision: deps.onDecision });
  registerEventRoutes(app, { root: deps.root, live: deps.live });
  registerPageRoutes(app, { root: deps.root, world: deps.world, summaries, store: deps.store });

  return app;
}
