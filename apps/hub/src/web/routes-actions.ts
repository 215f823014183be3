import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Action, ActionId, ActionState, DecisionBody } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import { decideAction } from '../decide-action';
import { sendError } from './http-errors';
import { ActionList, errorResponses, type ZodApp } from './zod-routes';

export interface ActionRoutesDeps {
  store: ActionStore;
  /** Called after a decision so the executor runs without waiting for its next tick. */
  onDecision: () => void;
}

const IdParams = z.object({ id: ActionId });
const ListQuery = z.object({ state: ActionState.optional() });

const actionParams = { params: IdParams, tags: ['actions'] } as const;
const INVALID_ID = { invalidParams: { code: 'invalid_id', message: 'not a valid action id' } } as const;

export function registerActionRoutes(app: ZodApp, deps: ActionRoutesDeps): void {
  app.get(
    '/api/actions',
    {
      schema: {
        summary: 'Actions, all states or one',
        tags: ['actions'],
        querystring: ListQuery,
        response: { 200: ActionList, ...errorResponses('invalid_request', 'unauthorized') },
      },
    },
    async (req) => ({ actions: await deps.store.list(req.query.state) }),
  );

  app.get(
    '/api/actions/:id',
    {
      config: INVALID_ID,
      schema: {
        summary: 'One action with its audit',
        ...actionParams,
        response: { 200: Action, ...errorResponses('invalid_id', 'unauthorized', 'not_found') },
      },
    },
    async (req, reply) => {
      const action = await deps.store.get(req.params.id);
      if (!action) return sendError(reply, 'not_found', `no action ${req.params.id}`);
      return action;
    },
  );

  const decide = (to: 'approved' | 'rejected') => ({
    config: INVALID_ID,
    schema: {
      summary: `${to === 'approved' ? 'Approve' : 'Reject'} a pending action (operator); a form post is redirected to /actions`,
      ...actionParams,
      body: DecisionBody.nullish(),
      response: { 200: Action, ...errorResponses('invalid_request', 'unauthorized', 'forbidden', 'csrf', 'not_found', 'conflict', 'invalid_transition') },
    },
    handler: async (req: FastifyRequest<{ Params: { id: string }; Body: DecisionBody | null | undefined }>, reply: FastifyReply) => {
      const body = req.body ?? {};
      const via = req.headers['x-homelab-client'] === 'cli' ? 'cli' : 'api';
      const from = requestOrigin(req);
      // An ActionStoreError (conflict, not_found, …) answers with its registered status (http-errors.ts).
      const action: Action = await decideAction(
        deps.store,
        req.params.id,
        to,
        { by: decidedBy(req, body.by), via, ...(body.note ? { note: body.note } : {}), from },
        new Date(),
      );
      deps.onDecision();
      // A plain form post (no script): back to the page it came from.
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return reply.redirect('/actions', 303);
      return action;
    },
  });
  app.post('/api/actions/:id/approve', decide('approved'));
  app.post('/api/actions/:id/reject', decide('rejected'));
}

/**
 * Who decided, for the audit: the signed-in user for a browser session (a
 * body cannot claim to be someone else); for an API token the body's `by`
 * (the CLI sends $USER) or else the token's name.
 */
export function decidedBy(req: Pick<FastifyRequest, 'principal'>, claimed: string | undefined): string {
  const p = req.principal;
  if (!p) return claimed ?? 'operator';
  if (p.via === 'session') return p.name;
  return claimed ?? p.name;
}

/** Where a decision came from, for the audit: the peer address and the user agent (truncated, never trusted for anything else). */
export function requestOrigin(req: Pick<FastifyRequest, 'ip' | 'headers'>): { ip?: string; userAgent?: string } {
  const ua = req.headers['user-agent'];
  return {
    ...(req.ip ? { ip: String(req.ip).slice(0, 64) } : {}),
    ...(typeof ua === 'string' && ua ? { userAgent: ua.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200) } : {}),
  };
}
