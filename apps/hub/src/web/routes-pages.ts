import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HomelabEvent, NodeName, type World } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import { APP_CSS } from './assets/app-css';
import { APP_JS } from './assets/app-js';
import { EventsQuery, queryEvents } from './event-query';
import { actionsBody, HISTORY_STATES, historyBody } from './pages/actions';
import { eventsBody } from './pages/events';
import { layout, type PageId } from './pages/layout';
import { nodeBody } from './pages/node';
import { overviewBody } from './pages/overview';
import { dropEmpty } from './routes-events';
import type { SummaryCache } from './summary-cache';
import { sendError } from './http-errors';

export interface PageRoutesDeps {
  root: string;
  world: () => World;
  summaries: SummaryCache;
  store: ActionStore;
}

const EVENT_TYPES = HomelabEvent.options.map((o) => o.shape.type.value).sort();
const HistoryQuery = z.object({ state: z.enum(HISTORY_STATES).optional() });
const byUpdatedDesc = (a: { updatedAt: string }, b: { updatedAt: string }) => b.updatedAt.localeCompare(a.updatedAt);

/** Security headers for every page: no inline script, no framing, no referrer leak. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

function send(req: FastifyRequest, reply: FastifyReply, page: PageId, title: string, body: string) {
  reply.header('cache-control', 'no-store').header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
  // The script asks for the fragment only, to swap <main> when the stream says something changed.
  const html = req.headers['x-fragment'] === '1' ? body : layout({ page, title, principal: req.principal!, body });
  reply.type('text/html; charset=utf-8').header('vary', 'accept-encoding');
  // Big fleets make big tables; gzip keeps a phone's first load small (a few ms of CPU for 100 KB).
  if (html.length > 8192 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(gzipSync(html, { level: 6 }));
  return reply.send(html);
}

async function history(store: ActionStore, state?: (typeof HISTORY_STATES)[number]) {
  const lists = await Promise.all((state ? [state] : HISTORY_STATES).map((s) => store.list(s)));
  return lists.flat().sort(byUpdatedDesc);
}

export function registerPageRoutes(app: FastifyInstance, deps: PageRoutesDeps): void {
  app.get('/assets/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_CSS));
  app.get('/assets/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(APP_JS));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());

  app.get('/', async (req, reply) => {
    const now = new Date();
    return send(req, reply, 'overview', 'Fleet', overviewBody(await deps.summaries.summary(), deps.world(), req.principal!, now));
  });

  app.get('/actions', async (req, reply) => send(req, reply, 'actions', 'Actions', actionsBody(await deps.summaries.summary(), req.principal!, new Date())));

  app.get('/history', async (req, reply) => {
    const q = HistoryQuery.safeParse(dropEmpty(req.query));
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    const actions = (await history(deps.store, q.data.state)).slice(0, 100);
    return send(req, reply, 'history', 'History', historyBody(actions, new Date(), q.data));
  });

  app.get('/events', async (req, reply) => {
    const q = EventsQuery.safeParse({ limit: 100, ...dropEmpty(req.query) });
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    const nodes = (await deps.summaries.summary()).nodes.map((n) => n.node);
    return send(req, reply, 'events', 'Events', eventsBody(await queryEvents(deps.root, q.data), q.data, nodes, EVENT_TYPES));
  });

  app.get('/nodes/:node', async (req, reply) => {
    const p = z.object({ node: NodeName }).safeParse(req.params);
    if (!p.success) return sendError(reply, 'invalid_request', 'not a valid node name');
    const node = p.data.node;
    const [s, all, events] = await Promise.all([deps.summaries.summary(), history(deps.store), queryEvents(deps.root, { node, limit: 30 })]);
    const body = nodeBody(node, s, deps.world(), all.filter((a) => a.node === node), events, req.principal!, new Date());
    if (!body) return reply.code(404).type('text/html; charset=utf-8').send(`<p>No node ${node.replace(/[^a-z0-9_-]/g, '')}. <a href="/">Fleet</a></p>`);
    return send(req, reply, 'node', `Node ${node}`, body);
  });
}
