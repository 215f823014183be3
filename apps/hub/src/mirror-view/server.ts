import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { HOMELAB_VERSION, NodeName, type MirrorSummary } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { summaryMarkdown } from '../summary-markdown';
import { APP_CSS } from '../web/assets/app-css';
import { APP_JS } from '../web/assets/app-js';
import { answerCodedErrors, sendError } from '../web/http-errors';
import type { Html } from '../web/pages/html';
import { copyAgeSeconds, readMirror } from './read-mirror';
import { mirrorBanner, mirrorEmptyBody, mirrorFleetBody, mirrorLayout, mirrorNodeBody } from './pages';

export interface MirrorViewOptions {
  /** The folder `homelab mirror --to` writes. */
  dir: string;
  /** When set, every route but /healthz needs it (Bearer, or the password of HTTP Basic). */
  token?: string;
  log: Logger;
  now?: () => Date;
}

const SummaryQuery = z.object({ format: z.enum(['json', 'markdown', 'md']).default('json') });
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  let given = '';
  if (scheme?.toLowerCase() === 'bearer') given = value;
  else if (scheme?.toLowerCase() === 'basic') given = Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The node side of the mirror (docs/ui-api.md, "Mirror's page"): a read-only
 * page and `/summary` made from the files `homelab mirror` copied, with the
 * hub's own page parts and summary renderer, so a node's operators see the
 * fleet while the hub is far away or down. Nothing here writes or decides.
 */
export function buildMirrorView(opts: MirrorViewOptions): FastifyInstance {
  const now = opts.now ?? (() => new Date());
  const app = Fastify({ loggerInstance: opts.log.child({ part: 'mirror-view' }, { level: 'warn' }) as FastifyBaseLogger });
  answerCodedErrors(app);
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const res = (schema as z.ZodType).safeParse(data);
    return res.success ? { value: res.data } : { error: res.error };
  });
  if (opts.token) {
    const token = opts.token;
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/healthz' || tokenMatches(req.headers.authorization, token)) return;
      reply.header('www-authenticate', 'Basic realm="homelab mirror", charset="UTF-8"');
      return sendError(reply, 'unauthorized', 'give the mirror view token (Authorization: Bearer <token>, or as the password)');
    });
  }
  const page = (reply: FastifyReply, status: number, title: string, body: (n: Date) => Html) =>
    reply
      .code(status)
      .header('cache-control', 'no-store')
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(body(now()).text);

  app.get('/assets/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(APP_CSS));
  app.get('/assets/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(APP_JS));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/healthz', async () => ({ ok: true, version: HOMELAB_VERSION }));

  app.get('/', async (_req, reply) => {
    const copy = await readMirror(opts.dir);
    if (!copy.ok) return page(reply, 503, 'No copy yet', () => mirrorLayout('No copy yet', null, mirrorEmptyBody(copy.problem)));
    return page(reply, 200, 'Fleet', (n) => mirrorLayout('Fleet', mirrorBanner(copy.status, n), mirrorFleetBody(copy.summary, n)));
  });

  app.get('/nodes/:node', { schema: { params: z.object({ node: NodeName }) } }, async (req, reply) => {
    const { node } = req.params as { node: string };
    const copy = await readMirror(opts.dir);
    if (!copy.ok) return page(reply, 503, 'No copy yet', () => mirrorLayout('No copy yet', null, mirrorEmptyBody(copy.problem)));
    const body = mirrorNodeBody(node, copy.summary, now());
    if (!body) return sendError(reply, 'not_found', `the copy knows no node ${node}`);
    return page(reply, 200, `Node ${node}`, (n) => mirrorLayout(`Node ${node}`, mirrorBanner(copy.status, n), body));
  });

  app.get('/summary', { schema: { querystring: SummaryQuery } }, async (req, reply) => {
    const { format } = req.query as z.infer<typeof SummaryQuery>;
    const copy = await readMirror(opts.dir);
    if (!copy.ok) return sendError(reply, 'mirror_empty', copy.problem);
    const n = now();
    reply.header('cache-control', 'no-store');
    if (format === 'json') {
      const body: MirrorSummary = { ...copy.summary, mirror: { ...copy.status, readOnly: true, ageSeconds: copyAgeSeconds(copy.status, n) } };
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
    }
    const copyOf = { hub: copy.status.hub, copiedAt: copy.status.lastSuccess ?? copy.summary.generatedAt };
    return reply.type('text/markdown; charset=utf-8').send(summaryMarkdown(copy.summary, n, copyOf));
  });
  return app;
}
