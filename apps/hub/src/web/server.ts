import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { ACTION_ID_MAX_LENGTH, HOMELAB_VERSION, Summary, type ConfigProblem, type Finding, type HostServicesFile, type World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import type { AuthState } from './auth/auth-state';
import { installGuard } from './auth/guard';
import { LoginLimiter } from './auth/rate-limit';
import { SessionStore } from './auth/sessions';
import { answerCodedErrors, sendError } from './http-errors';
import type { LiveBus } from './live';
import type { NotifyingActionStore } from './notifying-store';
import { Adopter } from '../adopt/adopt-files';
import { registerActionRoutes } from './routes-actions';
import { registerAdoptRoutes } from './routes-adopt';
import { registerProposeRoutes } from './routes-propose';
import { registerAuthRoutes } from './routes-auth';
import { registerEventRoutes } from './routes-events';
import { registerMetricsRoute, type MetricsPort } from './routes-metrics';
import { registerPageRoutes } from './routes-pages';
import { parseInstant, WorldAtView, WorldDiff, type WorldHistory } from '../history';
import { SummaryCache } from './summary-cache';
import { errorResponses, Health, useZodRoutes, WorldView, type ZodApp } from './zod-routes';

export interface WebDeps {
  root: string;
  /** The folder of `<node>/services.yaml` files, where `homelab adopt` writes. */
  hostsDir: string;
  /** After adopt wrote a services.yaml: the supervisor loads it at once. */
  onDesiredWritten: () => void;
  /** After an operator proposed an action (a disk cleanup's preview runs at once). */
  onProposed: () => void;
  world: () => World;
  desired: () => Record<string, HostServicesFile>;
  problems: () => ConfigProblem[];
  findings: () => Finding[];
  store: NotifyingActionStore;
  onDecision: () => void;
  health: () => Record<string, unknown>;
  /**
   * A Telegram update posted to `/telegram/webhook` with its secret token header: true when
   * handled, false for a wrong token, null when no Telegram webhook is configured.
   */
  telegramWebhook?: (secretToken: string | undefined, update: unknown) => Promise<boolean | null>;
  /** Extra lines for the fleet page's notices (failing notifiers, docs/notifications.md). */
  notices?: () => { where: string; what: string }[];
  auth: AuthState;
  live: LiveBus;
  log: Logger;
  /** Failed logins allowed per address / user in `loginWindowMs` (default 5 per 15 min). */
  loginMaxFailures?: number;
  loginWindowMs?: number;
  /** Serves `GET /metrics` (viewer) when given. */
  metrics?: MetricsPort;
  /** Answers `GET /api/world?at=` (and `&diff=`) when given; without it those answer not_found. */
  history?: WorldHistory;
}

/** What the webhook route needs of a Telegram update; grammY reads the rest. */
const TelegramUpdate = z.looseObject({ update_id: z.number().int() });

const WorldQuery = z.object({
  /** An ISO time or a duration back from now (`2h`): the world as it was then (docs/ui-api.md, "World at a past instant"). */
  at: z.string().max(64).optional(),
  /** A second instant: the answer is what changed from `at` to it. */
  diff: z.string().max(64).optional(),
});

const SummaryQuery = z.object({
  format: z.enum(['json', 'markdown', 'md']).default('json'),
  /** Which services the JSON lists; default: all of a small fleet, the unhealthy ones of a big one (servicesListed says which). */
  services: z.enum(['all', 'problems']).optional(),
});

/**
 * UI + JSON API on 18180 (docs/ui-api.md).
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
  // reply.setCookie writes the session cookie. The guard reads it itself (auth/sessions.ts): its onRequest hook runs before the plugin's.
  app.register(fastifyCookie);
  const sessions = new SessionStore();
  installGuard(app, deps.auth, sessions);
  const api = useZodRoutes(app);

  const adopter = new Adopter({ hostsDir: deps.hostsDir, world: deps.world, onWritten: deps.onDesiredWritten, log: deps.log.child({ part: 'adopt' }) });
  const summaries = new SummaryCache({
    world: deps.world,
    desired: deps.desired,
    problems: deps.problems,
    findings: deps.findings,
    actions: () => deps.store.list(),
    actionsVersion: () => deps.store.version,
  });

  // Routes go in once the OpenAPI plugin listens for them; not encapsulated, so the guard and the error answers hold for each.
  const routes = async (scope: ZodApp) => {
    registerAuthRoutes(scope, { auth: deps.auth, sessions, limiter: new LoginLimiter(deps.loginMaxFailures, deps.loginWindowMs) });
    registerApiRoutes(scope, deps, summaries);
    registerActionRoutes(scope, { store: deps.store, onDecision: deps.onDecision });
    registerEventRoutes(scope, { root: deps.root, live: deps.live });
    registerAdoptRoutes(scope, adopter);
    registerProposeRoutes(scope, { store: deps.store, desired: deps.desired, onProposed: deps.onProposed });
    registerPageRoutes(scope, {
      root: deps.root,
      adopter,
      desired: deps.desired,
      world: deps.world,
      summaries,
      store: deps.store,
      notices: deps.notices ?? (() => []),
    });
    if (deps.metrics) registerMetricsRoute(scope, deps.metrics);
  };
  api.register(Object.assign(routes, { [Symbol.for('skip-override')]: true }));

  return app;
}

function registerApiRoutes(app: ZodApp, deps: WebDeps, summaries: SummaryCache): void {
  app.get('/healthz', { schema: { summary: 'Liveness and ingest counters (no auth)', security: [], response: { 200: Health } } }, async () => ({
    ok: true,
    version: HOMELAB_VERSION,
    ...deps.health(),
  }));

  // Button taps from Telegram in webhook mode; the guard lets it through, the secret token is checked here.
  app.post('/telegram/webhook', { schema: { hide: true, body: TelegramUpdate } }, async (req, reply) => {
    const token = req.headers['x-telegram-bot-api-secret-token'];
    const handled = deps.telegramWebhook ? await deps.telegramWebhook(typeof token === 'string' ? token : undefined, req.body) : null;
    if (handled === null) return sendError(reply, 'not_found', 'no Telegram webhook is configured (docs/notifications.md)');
    if (!handled) return sendError(reply, 'unauthorized', 'wrong or missing x-telegram-bot-api-secret-token');
    return { ok: true };
  });

  app.get(
    '/summary',
    {
      schema: {
        summary: 'Fleet summary: JSON, or the "Copy for AI" markdown with format=markdown',
        querystring: SummaryQuery,
        response: {
          200: { description: 'OK', content: { 'application/json': { schema: Summary }, 'text/markdown': { schema: z.string() } } },
          ...errorResponses('invalid_request', 'unauthorized'),
        },
      },
    },
    async (req, typedReply) => {
      const q = req.query;
      // The summary cache hands over bytes it serialized (and gzipped) once per change.
      const reply = typedReply as FastifyReply;
      if (q.format === 'json') {
        reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
        // A poller over the network gets it gzipped (a big fleet with many problems still makes a large list).
        if (q.services) return reply.send(await summaries.json(q.services));
        const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? await summaries.gzipJson() : null;
        return gz ? reply.header('content-encoding', 'gzip').send(gz) : reply.send(await summaries.json());
      }
      return reply.type('text/markdown; charset=utf-8').send(await summaries.markdown());
    },
  );

  app.get(
    '/api/world',
    {
      schema: {
        summary: 'World state (services and nodes as the observer folded them); with at= as it was then, with diff= what changed from at to diff',
        querystring: WorldQuery,
        response: { 200: z.union([WorldView, WorldAtView, WorldDiff]), ...errorResponses('invalid_request', 'unauthorized', 'not_found') },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (q.at === undefined && q.diff === undefined) {
        const w = deps.world();
        return { services: w.services, nodes: w.nodes };
      }
      const now = new Date();
      const at = q.at === undefined ? null : parseInstant(q.at, now);
      const diff = q.diff === undefined ? null : parseInstant(q.diff, now);
      if ((q.at !== undefined && !at) || (q.diff !== undefined && !diff) || (diff && !at))
        return sendError(reply, 'invalid_request', 'at and diff are ISO times (2026-11-27T10:00:00Z) or durations back from now (90m, 2h, 3d); diff needs at');
      if (!deps.history) return sendError(reply, 'not_found', 'this hub keeps no history');
      return diff ? deps.history.diff(at!, diff) : deps.history.at(at!);
    },
  );

  // The document @fastify/swagger builds from every route's schema (zod-routes.ts); the same one /api/docs shows.
  app.get('/api/openapi.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
}
