import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ActionId, HomelabEvent, NodeName, type HostServicesFile, type StoredEvent, type World } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import type { Adopter } from '../adopt/adopt-files';
import { APP_CSS } from './assets/app-css';
import { APP_JS } from './assets/app-js';
import { EventsQuery, queryEvents } from './event-query';
import { actionChainBody } from './pages/action-chain';
import { actionsBody, HISTORY_STATES, historyBody } from './pages/actions';
import { eventsBody } from './pages/events';
import { html as pageHtml, type Html } from './pages/html';
import { layout, type PageId } from './pages/layout';
import { adoptBody } from './pages/adopt';
import { nodeBody } from './pages/node';
import { overviewBody } from './pages/overview';
import { dropEmpty, dropEmptyQuery } from './routes-events';
import type { SummaryCache } from './summary-cache';
import type { ZodApp } from './zod-routes';

export interface PageRoutesDeps {
  root: string;
  adopter: Adopter;
  desired: () => Record<string, HostServicesFile>;
  world: () => World;
  summaries: SummaryCache;
  store: ActionStore;
  notices: () => { where: string; what: string }[];
}

const EVENT_TYPES = HomelabEvent.options.map((o) => o.shape.type.value).sort();
const HistoryQuery = z.object({ state: z.enum(HISTORY_STATES).optional() });
const byUpdatedDesc = (a: { updatedAt: string }, b: { updatedAt: string }) => b.updatedAt.localeCompare(a.updatedAt);

/** Security headers for every page: no inline script, no framing, no referrer leak. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

function send(req: FastifyRequest, reply: FastifyReply, page: PageId, title: string, body: Html) {
  reply.header('cache-control', 'no-store').header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
  // The script asks for the fragment only, to swap <main> when the stream says something changed.
  const html = (req.headers['x-fragment'] === '1' ? body : layout({ page, title, principal: req.principal!, body })).text;
  reply.type('text/html; charset=utf-8').header('vary', 'accept-encoding');
  // Big fleets make big tables; gzip keeps a phone's first load small (a few ms of CPU for 100 KB).
  if (html.length > 8192 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
    return reply.header('content-encoding', 'gzip').send(gzipSync(html, { level: 6 }));
  return reply.send(html);
}

async function history(store: ActionStore, state?: (typeof HISTORY_STATES)[number]) {
  const lists = await Promise.all((state ? [state] : HISTORY_STATES).map((s) => store.list(s)));
  return lists.flat().sort(byUpdatedDesc);
}

/** Pages are HTML for people, not part of the API document. */
const PAGE = { hide: true } as const;

export function registerPageRoutes(app: ZodApp, deps: PageRoutesDeps): void {
  app.get('/assets/app.css', { schema: PAGE }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_CSS),
  );
  app.get('/assets/app.js', { schema: PAGE }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_JS),
  );
  app.get('/favicon.ico', { schema: PAGE }, async (_req, reply) => reply.code(204).send());

  app.get('/', { schema: PAGE }, async (req, reply) => {
    const now = new Date();
    return send(req, reply, 'overview', 'Fleet', overviewBody(await deps.summaries.summary(), deps.world(), req.principal!, now, deps.notices()));
  });

  app.get('/actions', { schema: PAGE }, async (req, reply) =>
    send(req, reply, 'actions', 'Actions', actionsBody(await deps.summaries.summary(), req.principal!, new Date())),
  );

  app.get(
    '/actions/:id',
    {
      config: { invalidParams: { code: 'invalid_id', message: 'not a valid action id' } },
      schema: { ...PAGE, params: z.object({ id: ActionId }) },
    },
    async (req, reply) => {
      const a = await deps.store.get(req.params.id);
      if (!a)
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(pageHtml`<p>No action ${req.params.id}. <a href="/actions">Actions</a></p>`.text);
      const wanted = new Set(a.drift.eventIds);
      const [recent, after] = await Promise.all([
        wanted.size ? queryEvents(deps.root, { node: a.node, limit: 1000 }) : Promise.resolve([] as StoredEvent[]),
        a.result
          ? queryEvents(deps.root, { node: a.node, ...(a.service ? { service: a.service } : {}), since: a.result.finishedAt, limit: 5 })
          : Promise.resolve([] as StoredEvent[]),
      ]);
      const events = new Map(recent.filter((r) => wanted.has(r.event.id)).map((r) => [r.event.id, r]));
      return send(req, reply, 'actions', `Action ${a.id}`, actionChainBody(a, events, after, req.principal!, new Date()));
    },
  );

  app.get('/history', { preValidation: dropEmptyQuery, schema: { ...PAGE, querystring: HistoryQuery } }, async (req, reply) => {
    const actions = (await history(deps.store, req.query.state)).slice(0, 100);
    return send(req, reply, 'history', 'History', historyBody(actions, new Date(), req.query));
  });

  // The page shows the newest 100 events unless asked for another number.
  const eventsPageQuery = async (req: FastifyRequest) => {
    req.query = { limit: 100, ...dropEmpty(req.query) };
  };
  app.get('/events', { preValidation: eventsPageQuery, schema: { ...PAGE, querystring: EventsQuery } }, async (req, reply) => {
    const nodes = (await deps.summaries.summary()).nodes.map((n) => n.node);
    return send(req, reply, 'events', 'Events', eventsBody(await queryEvents(deps.root, req.query), req.query, nodes, EVENT_TYPES));
  });

  app.get(
    '/nodes/:node/adopt',
    {
      config: { invalidParams: { code: 'invalid_request', message: 'not a valid node name' } },
      schema: { ...PAGE, params: z.object({ node: NodeName }) },
    },
    async (req, reply) => send(req, reply, 'node', `Adopt ${req.params.node}`, adoptBody(await deps.adopter.draft(req.params.node, false), req.principal!)),
  );

  app.get(
    '/nodes/:node',
    {
      config: { invalidParams: { code: 'invalid_request', message: 'not a valid node name' } },
      schema: { ...PAGE, params: z.object({ node: NodeName }) },
    },
    async (req, reply) => {
      const node = req.params.node;
      const [s, all, events] = await Promise.all([deps.summaries.summary(), history(deps.store), queryEvents(deps.root, { node, limit: 30 })]);
      const body = nodeBody(
        node,
        s,
        deps.world(),
        all.filter((a) => a.node === node),
        events,
        req.principal!,
        new Date(),
        Object.entries((Object.hasOwn(deps.desired(), node) ? deps.desired()[node]?.services : undefined) ?? {})
          .filter(([, spec]) => spec.monitor !== false)
          .map(([name]) => name),
      );
      if (!body)
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(pageHtml`<p>No node ${node}. <a href="/">Fleet</a></p>`.text);
      return send(req, reply, 'node', `Node ${node}`, body);
    },
  );
}
