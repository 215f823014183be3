import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NodeName, ServiceName } from '@homelab/contracts';
import { EventsQuery, matches, queryEvents } from './event-query';
import type { LiveBus } from './live';
import { errorResponses, EventList, type ZodApp } from './zod-routes';

export const StreamQuery = z.object({
  node: NodeName.optional(),
  service: ServiceName.optional(),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/)
    .optional(),
  /** `0`: only `change` notifications (the non-event pages). */
  events: z.enum(['0', '1']).default('1'),
});

/** Empty query values (`?node=` from a filter form) mean "any". */
export const dropEmpty = (q: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries((q ?? {}) as Record<string, unknown>).filter(([, v]) => v !== '' && v !== undefined));

/** A route's preValidation hook: empty query values dropped before the schema sees them. */
export async function dropEmptyQuery(req: FastifyRequest): Promise<void> {
  req.query = dropEmpty(req.query);
}

export interface EventRoutesDeps {
  root: string;
  live: LiveBus;
  /** Seconds between SSE keep-alive comments. */
  pingMs?: number;
}

export function registerEventRoutes(app: ZodApp, deps: EventRoutesDeps): void {
  app.get(
    '/api/events',
    {
      preValidation: dropEmptyQuery,
      schema: {
        summary: 'Stored events, newest `limit`, oldest first',
        tags: ['events'],
        querystring: EventsQuery,
        response: { 200: EventList, ...errorResponses('invalid_request', 'unauthorized') },
      },
    },
    async (req) => ({ events: await queryEvents(deps.root, req.query) }),
  );

  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });

  /**
   * Server-sent events: `event: event` with each stored event matching the
   * filter as it is written, `event: change` with `{kind}` when the world or
   * an action changed (the pages re-render on it), a comment every 15 s.
   */
  app.get(
    '/api/stream',
    {
      preValidation: dropEmptyQuery,
      schema: {
        summary: 'Server-sent events: `event` (a StoredEvent matching the filter) and `change` ({kind}: world | actions)',
        tags: ['events'],
        querystring: StreamQuery,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...errorResponses('invalid_request', 'unauthorized'),
        },
      },
    },
    async (req, reply) => {
      const filter = req.query;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
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
    },
  );
}
