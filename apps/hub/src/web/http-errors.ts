import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { CodedError, httpStatusOf, type ErrorBody, type ErrorCode } from '@homelab/contracts';

/** An error answer: the status of `code` in the registry (libs/contracts errors.ts), body `{ error, message }`. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const body: ErrorBody = { error: code, message };
  return reply.code(httpStatusOf(code)).send(body);
}

/**
 * A request that does not fit its route's zod schemas answers invalid_request
 * with zod's explanation (or the route's `invalidParams`); a HubError,
 * AgentError or ActionStoreError a route lets through answers with its
 * registered status and `{ error, message }`; anything else gets fastify's own
 * answer (a 500 the default handler logs).
 */
export function answerCodedErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    // A request the route's schema refused (fastify names the part); a ZodError from inside a handler is a fault (500).
    const part = (err as { validationContext?: string }).validationContext;
    if (err instanceof z.ZodError && part !== undefined) {
      const custom = part === 'params' ? req.routeOptions.config.invalidParams : undefined;
      return custom ? sendError(reply, custom.code, custom.message) : sendError(reply, 'invalid_request', z.prettifyError(err));
    }
    if (!(err instanceof CodedError)) throw err;
    if (err.status >= 500) req.log.error({ err }, 'request failed');
    return sendError(reply, err.code, err.message);
  });
}
