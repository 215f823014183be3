import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ActionStore } from '@homelab/action-store';
import type { ConfigProblem, Finding, HostServicesFile, World } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { buildSummary } from '../summary';
import { registerActionRoutes } from './routes-actions';
import { INDEX_HTML } from './index-page';

export interface WebDeps {
  world: () => World;
  desired: () => Record<string, HostServicesFile>;
  problems: () => ConfigProblem[];
  findings: () => Finding[];
  store: ActionStore;
  onDecision: () => void;
  health: () => Record<string, unknown>;
  log: Logger;
}

/** UI + JSON API on 18180 (BRIEF.md "Interfaces people use"). Built here, listened on by the caller. */
export function buildWebServer(deps: WebDeps): FastifyInstance {
  // Request logs only at debug: the UI polls every few seconds.
  const app = Fastify({ loggerInstance: deps.log.child({ part: 'web' }, { level: 'warn' }) as FastifyBaseLogger, bodyLimit: 64 * 1024 });

  app.get('/healthz', async () => ({ ok: true, ...deps.health() }));

  app.get('/summary', async () =>
    buildSummary({
      world: deps.world(),
      desired: deps.desired(),
      actions: await deps.store.list(),
      problems: deps.problems(),
      findings: deps.findings(),
      now: new Date(),
    }),
  );

  app.get('/api/world', async () => deps.world());

  registerActionRoutes(app, { store: deps.store, onDecision: deps.onDecision });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(INDEX_HTML));

  return app;
}
