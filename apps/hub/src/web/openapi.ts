import { z } from 'zod';
import { Action, ActionState, DecisionBody, StoredEvent, Summary, WorldNode, WorldService } from '@homelab/contracts';
import { EventsQuery } from './event-query';
import { LoginBody } from './routes-auth';
import { StreamQuery } from './routes-events';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const World = z.object({ services: z.record(z.string(), WorldService), nodes: z.record(z.string(), WorldNode) });
const ActionList = z.object({ actions: z.array(Action) });
const EventList = z.object({ events: z.array(StoredEvent) });
const Health = z.object({ ok: z.boolean(), mqttConnected: z.boolean().optional() }).catchall(z.unknown());
const Me = z.object({ user: z.string(), role: z.enum(['operator', 'viewer']), via: z.enum(['session', 'token']), csrf: z.string().optional() });

const SCHEMAS = { Action, Summary, World, StoredEvent, DecisionBody, LoginBody, ErrorBody, ActionList, EventList, Health, Me };
type SchemaName = keyof typeof SCHEMAS;

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName, description = 'OK') => ({ description, content: { 'application/json': { schema: ref(name) } } });
const errors = {
  400: json('ErrorBody', 'invalid request'),
  401: json('ErrorBody', 'no or unknown credentials'),
};
const decision = {
  ...errors,
  403: json('ErrorBody', 'viewer role, cross-site request, or missing CSRF token (session only)'),
  404: json('ErrorBody', 'no such action'),
  409: json('ErrorBody', 'the action is no longer pending'),
};

/** Query parameters from a zod object, each described by its own JSON Schema. */
function queryParams(schema: z.ZodObject) {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: (js.required ?? []).includes(name), schema: s }));
}

let cached: string | null = null;

/**
 * OpenAPI 3.1 of the JSON API, generated from the same zod schemas the
 * routes validate with (z.toJSONSchema), so it cannot drift from them.
 */
export function openApiDocument(): string {
  if (cached) return cached;
  const components = Object.fromEntries(
    Object.entries(SCHEMAS).map(([name, s]) => [name, z.toJSONSchema(s as z.ZodType, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' })]),
  );
  for (const c of Object.values(components)) delete (c as Record<string, unknown>).$schema;
  const idParam = { name: 'id', in: 'path', required: true, schema: z.toJSONSchema(Action.shape.id) };
  const doc = {
    openapi: '3.1.0',
    info: { title: 'homelab hub API', version: '1', description: 'UI and JSON API of the homelab hub (docs/ui-api.md). Auth: a session cookie from POST /login (mutations then need x-csrf-token) or Authorization: Bearer <token>.' },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'homelab_session' } },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/healthz': { get: { summary: 'Liveness and ingest counters (no auth)', security: [], responses: { 200: json('Health') } } },
      '/summary': {
        get: {
          summary: 'Fleet summary: JSON, or the "Copy for AI" markdown with format=markdown',
          parameters: [
            { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'markdown'] } },
            {
              name: 'services',
              in: 'query',
              required: false,
              description: 'all: every service; problems: the unhealthy ones. Default: all up to 500 services, problems above (see servicesListed)',
              schema: { type: 'string', enum: ['all', 'problems'] },
            },
          ],
          responses: { 200: { description: 'OK', content: { 'application/json': { schema: ref('Summary') }, 'text/markdown': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/api/world': { get: { summary: 'World state (services and nodes as the observer folded them)', responses: { 200: json('World'), ...errors } } },
      '/api/events': { get: { summary: 'Stored events, newest `limit`, oldest first', parameters: queryParams(EventsQuery), responses: { 200: json('EventList'), ...errors } } },
      '/api/stream': {
        get: {
          summary: 'Server-sent events: `event` (a StoredEvent matching the filter) and `change` ({kind}: world | actions)',
          parameters: queryParams(StreamQuery),
          responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/api/actions': {
        get: {
          summary: 'Actions, all states or one',
          parameters: [{ name: 'state', in: 'query', required: false, schema: z.toJSONSchema(ActionState) }],
          responses: { 200: json('ActionList'), ...errors },
        },
      },
      '/api/actions/{id}': { get: { summary: 'One action with its audit', parameters: [idParam], responses: { 200: json('Action'), ...errors, 404: json('ErrorBody', 'no such action') } } },
      '/api/actions/{id}/approve': {
        post: { summary: 'Approve a pending action (operator)', parameters: [idParam], requestBody: { content: { 'application/json': { schema: ref('DecisionBody') } } }, responses: { 200: json('Action'), ...decision } },
      },
      '/api/actions/{id}/reject': {
        post: { summary: 'Reject a pending action (operator)', parameters: [idParam], requestBody: { content: { 'application/json': { schema: ref('DecisionBody') } } }, responses: { 200: json('Action'), ...decision } },
      },
      '/api/me': { get: { summary: 'Who is calling, with the CSRF token of a session', responses: { 200: json('Me'), ...errors } } },
      '/login': {
        post: {
          summary: 'Operator login: sets the HttpOnly SameSite=Strict session cookie; 5 failures per 15 min per address or user, then 429',
          security: [],
          requestBody: { content: { 'application/json': { schema: ref('LoginBody') }, 'application/x-www-form-urlencoded': { schema: ref('LoginBody') } } },
          responses: { 200: json('Me'), 400: json('ErrorBody'), 401: json('ErrorBody', 'wrong user or password'), 429: json('ErrorBody', 'too many failed logins') },
        },
      },
      '/logout': { post: { summary: 'Ends the session', responses: { 200: { description: 'OK' } } } },
    },
  };
  cached = JSON.stringify(doc);
  return cached;
}
