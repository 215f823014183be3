import { z } from 'zod';
import { AdoptDraftView, AdoptWriteBody, AdoptWriteResult, NodeName } from '@homelab/contracts';
import type { Adopter } from '../adopt/adopt-files';
import { errorResponses, type ZodApp } from './zod-routes';

const NodeParams = z.object({ node: NodeName });
const DraftQuery = z.object({ force: z.enum(['true', 'false']).default('false') });

/** `homelab adopt` through the API (docs/services-yaml.md, "Adopting what runs"): viewers read the draft, operators write it. */
export function registerAdoptRoutes(app: ZodApp, adopter: Adopter): void {
  app.get(
    '/api/nodes/:node/adopt',
    {
      schema: {
        summary: "Draft of hosts/<node>/services.yaml from the node's running containers, as a diff against the current file",
        tags: ['adopt'],
        params: NodeParams,
        querystring: DraftQuery,
        response: { 200: AdoptDraftView, ...errorResponses('invalid_request', 'unauthorized', 'not_found', 'conflict') },
      },
    },
    async (req) => adopter.draft(req.params.node, req.query.force === 'true'),
  );

  app.post(
    '/api/nodes/:node/adopt',
    {
      schema: {
        summary: 'Write the draft made from the file of baseRevision (operator); a form post is redirected to the node page',
        tags: ['adopt'],
        params: NodeParams,
        body: AdoptWriteBody,
        response: { 200: AdoptWriteResult, ...errorResponses('invalid_request', 'unauthorized', 'forbidden', 'csrf', 'not_found', 'conflict') },
      },
    },
    async (req, reply) => {
      const force = req.body.force === true || req.body.force === 'true';
      const result = await adopter.write(req.params.node, req.body.baseRevision, force);
      if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return reply.redirect(`/nodes/${req.params.node}`, 303);
      return result;
    },
  );
}
