import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NodeName, ServiceName } from '@homelab/contracts';
import { EventsQuery, matches, queryEvents } from './event-query';
import type { LiveBus } from './live';
import { sendError } from './http-errors';

export const StreamQuery = z.object({
  node: NodeName.optional(),
  service: ServiceName.optional(),
  type: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/).optional(),
  /** `0`: only `change` notifications (the non-event pages). */
  events: z.enum(['0', '1']).default('1'),
});

/** Empty query values (`?node=` from a filter form) mean "any". */
export const dropEmpty = (q: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries((q ?? {}) as Record<string, unknown>).filter(([, v]) => v !== '' && v !== undefined));

export interface EventRoutesDeps {
  root: string;
  live: LiveBus;
  /** Seconds between SSE keep-alive comments. */
  pingMs?: number;
}

export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  app.get('/api/events', async (req, reply) => {
    const q = EventsQuery.safeParse(dropEmpty(req.query));
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    return { events: await queryEvents(deps.root, q.data) };
  });

  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });

  /**
   * Server-sent events: `event: event` with each stored event matching the
   * filter as it is written, `event: change` with `{kind}` when the world or
   * an action changed (the pages re-render on it), a comment every 15 s.
   */
  app.get('/api/stream', async (req, reply) => {
    const q = StreamQuery.safeParse(dropEmpty(req.query));
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    const filter = q.data;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = deps.live.subscribe({
      ...(filter.events === '1' ? { onEvent: (r) => matches(r, filter) && send('event', r) } : {}),
      onChange: (kind) => send('change', { kind }),
    });
    const ping = setInterval(() => res.write(': ping\n\n'), deps.pingMs ?? 15_000);
    const end = () => {
      clearInterval(ping);
      unsubscribe();
      open.delete(end);
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    req.raw.on('close', end);
  });
}
