import { Action, ProposeBody, type HostServicesFile } from '@homelab/contracts';
import type { ActionStore } from '@homelab/action-store';
import { manualAction } from '../manual/manual-action';
import { sendError } from './http-errors';
import { decidedBy, requestOrigin } from './routes-actions';
import { errorResponses, type ZodApp } from './zod-routes';

export interface ProposeRoutesDeps {
  store: ActionStore;
  desired: () => Record<string, HostServicesFile>;
  /** After a proposal: e.g. the disk-cleanup preview runs at once. */
  onProposed: () => void;
}

/** An operator proposes an action now (docs/actions.md, "Manual actions"); it waits for approval like any other. */
export function registerProposeRoutes(app: ZodApp, deps: ProposeRoutesDeps): void {
  app.post(
    '/api/actions',
    {
      schema: {
        summary: 'Propose a restart, redeploy or disk cleanup now (operator); pending until approved. A form post is redirected to /actions',
        tags: ['actions'],
        body: ProposeBody,
        response: { 200: Action, ...errorResponses('invalid_request', 'unauthorized', 'forbidden', 'csrf', 'not_found', 'conflict') },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const out = manualAction({
        request: body,
        desired: deps.desired(),
        actions: await deps.store.list(),
        now: new Date(),
        by: decidedBy(req, body.by),
        via: req.headers['x-homelab-client'] === 'cli' ? 'cli' : 'api',
        from: requestOrigin(req),
      });
      if (!out.ok) return sendError(reply, out.code, out.message);
      // The store refuses a second live file of the id (a proposal racing this one).
      if ((await deps.store.create(out.action)) === 'exists') return sendError(reply, 'conflict', `${out.action.id} is already live`);
      deps.onProposed();
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return reply.redirect('/actions', 303);
      return out.action;
    },
  );
}
