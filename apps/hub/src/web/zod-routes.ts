import fs from 'node:fs';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Action, DecisionBody, ERRORS, StoredEvent, Summary, WorldNode, WorldService, type ErrorCode } from '@homelab/contracts';

/** The web server with zod schemas as route schemas: `req.query`, `req.params`, `req.body` typed from them. */
export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer to path parameters that do not parse (default: invalid_request with zod's explanation). */
    invalidParams?: { code: ErrorCode; message: string };
  }
}

/** The schemas the OpenAPI document names in `components.schemas` (and refers to). */
export const API_SCHEMAS = z.registry<{ id: string }>();

export const ErrorBody = z.object({ error: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]), message: z.string() });
export const WorldView = z.object({ services: z.record(z.string(), WorldService), nodes: z.record(z.string(), WorldNode) });
export const ActionList = z.object({ actions: z.array(Action) });
export const EventList = z.object({ events: z.array(StoredEvent) });
/** `version`: HOMELAB_VERSION, the program that answers (docs/upgrade.md). */
export const Health = z.object({ ok: z.boolean(), version: z.string(), mqttConnected: z.boolean().optional() }).catchall(z.unknown());
export const Me = z.object({ user: z.string(), role: z.enum(['operator', 'viewer']), via: z.enum(['session', 'token']), csrf: z.string().optional() });
export const LoginBody = z.object({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().max(2000).optional(),
});
export const LoginOk = z.object({ user: z.string(), role: z.enum(['operator', 'viewer']), csrf: z.string() });
for (const [id, schema] of Object.entries({
  Action,
  Summary,
  World: WorldView,
  StoredEvent,
  DecisionBody,
  LoginBody,
  LoginOk,
  ErrorBody,
  ActionList,
  EventList,
  Health,
  Me,
})) {
  API_SCHEMAS.add(schema, { id });
}

/** Error answers a route documents, each `{ error, message }` (http-errors.ts), described by the registry's meanings. */
export function errorResponses(...codes: ErrorCode[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorBody } } }> = {};
  for (const code of codes) {
    const status = ERRORS[code].status;
    const description = codes
      .filter((c) => ERRORS[c].status === status)
      .map((c) => `${c}: ${ERRORS[c].meaning}`)
      .join('; ');
    out[status] = { description, content: { 'application/json': { schema: ErrorBody } } };
  }
  return out;
}

/**
 * Routes validate with their zod schemas (the ZodError kept, so a bad request
 * is answered with zod's own explanation by http-errors.ts) and answer with
 * plain JSON.stringify, as without schemas: the response schemas document, the
 * handlers' data is already parsed. The OpenAPI document is generated from the
 * routes (@fastify/swagger), with a browsable UI at /api/docs behind the same
 * guard as every other route (docs/ui-api.md).
 */
export function useZodRoutes(app: FastifyInstance): ZodApp {
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const res = (schema as z.ZodType).safeParse(data);
    return res.success ? { value: res.data } : { error: res.error };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const zodToJsonConfig = { unrepresentable: 'any' as const };
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'homelab hub API',
        version: '1',
        description:
          'UI and JSON API of the homelab hub (docs/ui-api.md). Auth: a session cookie from POST /login (mutations then need x-csrf-token) or Authorization: Bearer <token>.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'homelab_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: createJsonSchemaTransform({ schemaRegistry: API_SCHEMAS, zodToJsonConfig }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: API_SCHEMAS, zodToJsonConfig }),
  });
  // The bundled image carries the UI's files beside the bundle (deploy/build.mjs); from source the package has them.
  const bundledUi = path.join(path.dirname(process.argv[1] ?? '.'), 'swagger-ui');
  // A logo of our own, so nothing is read from the package folder at start (a lone bundle has none).
  const logo = {
    type: 'image/svg+xml',
    content:
      '<svg xmlns="http://www.w3.org/2000/svg" width="140" height="32"><text x="0" y="24" font-family="sans-serif" font-size="22" fill="#fff">homelab API</text></svg>',
  };
  app.register(swaggerUi, { routePrefix: '/api/docs', logo, ...(fs.existsSync(path.join(bundledUi, 'index.html')) ? { baseDir: bundledUi } : {}) });
  return app.withTypeProvider<ZodTypeProvider>();
}
