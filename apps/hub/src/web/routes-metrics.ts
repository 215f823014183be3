import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { errorResponses, type ZodApp } from './zod-routes';

/** The Prometheus exposition of the hub (metrics/hub-metrics.ts). */
export interface MetricsPort {
  readonly contentType: string;
  render(): Promise<string>;
}

/** `GET /metrics` behind the guard: any principal, e.g. a viewer token as Prometheus' bearer credentials (docs/metrics.md). */
export function registerMetricsRoute(app: ZodApp, metrics: MetricsPort): void {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        response: { 200: { description: 'OK', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses('unauthorized') },
      },
    },
    async (_req, reply) => (reply as FastifyReply).type(metrics.contentType).send(await metrics.render()),
  );
}
