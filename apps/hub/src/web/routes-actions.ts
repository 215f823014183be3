import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ActionId, ActionState, DecisionBody, type Action } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import { sendError } from './http-errors';

export interface ActionRoutesDeps {
  store: ActionStore;
  /** Called after a decision so the executor runs without waiting for its next tick. */
  onDecision: () => void;
}

const IdParams = z.object({ id: ActionId });
const ListQuery = z.object({ state: ActionState.optional() });

export function registerActionRoutes(app: FastifyInstance, deps: ActionRoutesDeps): void {
  app.get('/api/actions', async (req, reply) => {
    const q = ListQuery.safeParse(req.query);
    if (!q.success) return sendError(reply, 'invalid_request', z.prettifyError(q.error));
    return { actions: await deps.store.list(q.data.state) };
  });

  app.get('/api/actions/:id', async (req, reply) => {
    const p = IdParams.safeParse(req.params);
    if (!p.success) return sendError(reply, 'invalid_id', 'not a valid action id');
    const action = await deps.store.get(p.data.id);
    if (!action) return sendError(reply, 'not_found', `no action ${p.data.id}`);
    return action;
  });

  const decide = (to: 'approved' | 'rejected') => async (req: FastifyRequest, reply: FastifyReply) => {
    const p = IdParams.safeParse(req.params);
    if (!p.success) return sendError(reply, 'invalid_id', 'not a valid action id');
    const b = DecisionBody.safeParse(req.body ?? {});
    if (!b.success) return sendError(reply, 'invalid_request', z.prettifyError(b.error));
    const via = req.headers['x-homelab-client'] === 'cli' ? 'cli' : 'api';
    const from = requestOrigin(req);
    // An ActionStoreError (conflict, not_found, …) answers with its registered status (http-errors.ts).
    const action: Action = await deps.store.transition(p.data.id, 'pending', to, (a) => ({
      ...a,
      audit: [
        ...a.audit,
        {
          at: new Date().toISOString(),
          state: to,
          by: decidedBy(req, b.data.by),
          via,
          ...(b.data.note ? { note: b.data.note } : {}),
          from,
        },
      ],
    }));
    deps.onDecision();
    // A plain form post (no script): back to the page it came from.
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return reply.redirect('/actions', 303);
    return action;
  };
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
