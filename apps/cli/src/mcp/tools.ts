import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/server';
import { Action, ActionId, ActionState, IsoTime, ProposeBody, StoredEvent, Summary, WorldNode, WorldService } from '@homelab/contracts';
import { EventsQuery } from '@homelab/hub';
import type { HubAnswer, HubReader } from './hub-reader';
import { whyChain, WhyChain } from './why';
import { WorldAtView } from '@homelab/hub/history';

/** `GET /api/world` as the hub declares it (apps/hub/src/web/zod-routes.ts). */
const World = z.object({ services: z.record(z.string(), WorldService), nodes: z.record(z.string(), WorldNode) });
const Events = z.object({ events: z.array(StoredEvent) });
const Actions = z.object({ actions: z.array(Action) });
const SummaryText = z.object({ markdown: z.string() });
/** Paths the hub lists in its OpenAPI document, with the query parameters of each GET. */
const OpenApi = z.object({
  paths: z.record(z.string(), z.object({ get: z.object({ parameters: z.array(z.object({ name: z.string(), in: z.string() })).optional() }).optional() })),
});

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, openWorldHint: false } as const;

type ToolResult = { content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

const answered = <T extends Record<string, unknown>>(answer: HubAnswer<T>, text?: (value: T) => string): ToolResult =>
  answer.ok
    ? { content: [{ type: 'text', text: text ? text(answer.value) : JSON.stringify(answer.value, null, 2) }], structuredContent: answer.value }
    : { content: [{ type: 'text', text: answer.message }], isError: true };

const query = (q: Record<string, string | number | undefined>): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
};

/** Whether this hub's `/api/world` takes `at` (docs/ui-api.md); an older one ignores the parameter and would answer the present. */
async function hubHasWorldAt(hub: HubReader): Promise<HubAnswer<boolean>> {
  const doc = await hub.get('/api/openapi.json', OpenApi);
  if (!doc.ok) return doc;
  return { ok: true, value: (doc.value.paths['/api/world']?.get?.parameters ?? []).some((p) => p.name === 'at' && p.in === 'query') };
}

export function registerTools(server: McpServer, hub: HubReader): void {
  server.registerTool(
    'summary',
    {
      title: 'Fleet summary',
      description:
        'The fleet at a glance: nodes, services (problems first on large fleets), pending and running actions, recent failures, notices. GET /summary.',
      inputSchema: z.object({ services: z.enum(['all', 'problems']).optional().describe('list every service, or only those that are not healthy') }),
      outputSchema: Summary,
      annotations: READ_ONLY,
    },
    async ({ services }) => answered(await hub.get(`/summary${query({ services })}`, Summary)),
  );

  server.registerTool(
    'summary_markdown',
    {
      title: 'Fleet summary as Markdown',
      description: 'The "Copy for AI" text: problems, pending and running actions, recent failures, notices. GET /summary?format=markdown.',
      inputSchema: z.object({}),
      outputSchema: SummaryText,
      annotations: READ_ONLY,
    },
    async () => {
      const answer = await hub.getText('/summary?format=markdown');
      return answered(answer.ok ? { ok: true, value: { markdown: answer.value } } : answer, (v) => v.markdown);
    },
  );

  server.registerTool(
    'world',
    {
      title: 'World state now',
      description: 'Every service and node as the hub folded them from the event log. GET /api/world.',
      inputSchema: z.object({}),
      outputSchema: World,
      annotations: READ_ONLY,
    },
    async () => answered(await hub.get('/api/world', World)),
  );

  server.registerTool(
    'world_at',
    {
      title: 'World state at a past instant',
      description: 'Services and nodes as they were at `at` (ISO 8601), rebuilt by the hub from its log. GET /api/world?at=<time>.',
      inputSchema: z.object({ at: IsoTime.describe('the instant, ISO 8601 with offset, e.g. 2026-12-06T08:00:00Z') }),
      outputSchema: WorldAtView,
      annotations: READ_ONLY,
    },
    async ({ at }) => {
      const supported = await hubHasWorldAt(hub);
      if (supported.ok && !supported.value)
        return answered({ ok: false, status: 404, message: 'world at a time is not supported by this hub (its /api/world takes no `at`)' });
      const answer = await hub.get(`/api/world${query({ at })}`, WorldAtView);
      if (!answer.ok && (answer.status === 400 || answer.status === 404)) {
        return answered({ ok: false, status: answer.status, message: `world at a time is not supported by this hub for ${at}: ${answer.message}` });
      }
      return answered(answer);
    },
  );

  server.registerTool(
    'events',
    {
      title: 'Stored events',
      description:
        'Events from the log, the newest `limit` (default 200, max 1000) that match, oldest first; `since` compares with the hub receive time. GET /api/events.',
      inputSchema: EventsQuery.partial(),
      outputSchema: Events,
      annotations: READ_ONLY,
    },
    async (q) => answered(await hub.get(`/api/events${query(q)}`, Events)),
  );

  server.registerTool(
    'actions',
    {
      title: 'Actions',
      description: 'Every action (pending, approved, running, and the finished ones), or those in one state. GET /api/actions.',
      inputSchema: z.object({ state: ActionState.optional() }),
      outputSchema: Actions,
      annotations: READ_ONLY,
    },
    async ({ state }) => answered(await hub.get(`/api/actions${query({ state })}`, Actions)),
  );

  server.registerTool(
    'action',
    {
      title: 'One action',
      description: 'One action with its drift, audit (who, when, via what), command and result. GET /api/actions/<id>.',
      inputSchema: z.object({ id: ActionId }),
      outputSchema: Action,
      annotations: READ_ONLY,
    },
    async ({ id }) => answered(await hub.get(`/api/actions/${encodeURIComponent(id)}`, Action)),
  );

  server.registerTool(
    'why',
    {
      title: 'Why an action exists and what became of it',
      description: 'The chain of one action: the events that were its evidence, the drift they opened, the action, its audit, the command and the result.',
      inputSchema: z.object({ id: ActionId }),
      outputSchema: WhyChain,
      annotations: READ_ONLY,
    },
    async ({ id }) => {
      const chain = await whyChain(hub, id);
      return answered(chain, (c) => c.text);
    },
  );

  server.registerTool(
    'propose',
    {
      title: 'Propose an action for an operator to approve',
      description:
        'Ask for a container_restart or redeploy of a service, or a disk_cleanup of a node. It only creates a pending action: an operator approves or rejects it in the UI, CLI or Telegram. Needs an operator token; the hub refuses a viewer. POST /api/actions.',
      inputSchema: ProposeBody.pick({ type: true, node: true, service: true, note: true }),
      outputSchema: Action,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (body) =>
      answered(
        await hub.post('/api/actions', body, Action),
        (a) => `${a.id} is ${a.state} (${a.risk} risk): ${a.summary}\nAn operator approves or rejects it.`,
      ),
  );
}
