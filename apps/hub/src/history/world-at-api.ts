import { z } from 'zod';
import { IsoTime, WorldNode, WorldService } from '@homelab/contracts';

/** `GET /api/world?at=`: the world view as it was at `at` (docs/ui-api.md, "World at a past instant"). */
export const WorldAtView = z.object({
  at: IsoTime,
  /** The history snapshot the fold started from (its cut), or null: folded from the start of the log. */
  basedOn: IsoTime.nullable(),
  /** Events folded on top of it. */
  applied: z.number().int().nonnegative(),
  services: z.record(z.string(), WorldService),
  nodes: z.record(z.string(), WorldNode),
});

const ServiceFacts = z.object({ status: WorldService.shape.status, reason: z.string().optional(), since: IsoTime });
const NodeFacts = z.object({ online: z.boolean().nullable(), dockerReachable: z.boolean().nullable(), disks: z.record(z.string(), z.string()) });
const changes = <F extends z.ZodType>(facts: F) =>
  z.object({
    added: z.array(z.object({ key: z.string(), after: facts })),
    removed: z.array(z.object({ key: z.string(), before: facts })),
    changed: z.array(z.object({ key: z.string(), before: facts, after: facts })),
  });

/** `GET /api/world?at=<t1>&diff=<t2>`: what changed from t1 to t2. */
export const WorldDiff = z.object({ from: IsoTime, to: IsoTime, services: changes(ServiceFacts), nodes: changes(NodeFacts) });

/** An instant as the API and CLI take it: an ISO time, or a duration back from now (`90m`, `2h`, `3d`). */
export function parseInstant(text: string, now: Date): Date | null {
  const rel = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd']);
  if (!IsoTime.safeParse(text).success && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t);
}
