import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { HUB_STREAM, IsoTime, NodeName, ServiceName, type StoredEvent } from '@homelab/contracts';
import { decodeLine } from '@homelab/event-log';

/** `GET /api/events` query. `since` is compared with the hub's receive time (`rx`). */
export const EventsQuery = z.object({
  /** Normalised to UTC `toISOString()` form, the form `rx` is written in, so the two compare as strings. */
  since: IsoTime.transform((s) => new Date(s).toISOString()).optional(),
  node: NodeName.optional(),
  service: ServiceName.optional(),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/)
    .optional(),
  /** One event by its id (what an action's chain links to; docs/ui-api.md, "Pages"). */
  id: z.string().min(1).max(160).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

export const matches = (r: StoredEvent, q: Pick<EventsQuery, 'since' | 'node' | 'service' | 'type' | 'id'>): boolean =>
  (!q.id || r.event.id === q.id) &&
  (!q.node || r.event.node === q.node) &&
  (!q.service || ('service' in r.event && r.event.service === q.service)) &&
  (!q.type || r.event.type === q.type) &&
  (!q.since || r.rx > q.since);

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const FILE = /^([a-z0-9_][a-z0-9_-]*)\.jsonl(\.gz)?$/;

async function readLines(file: string): Promise<string[]> {
  const buf = await fs.readFile(file);
  const text = file.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline is incomplete (or empty)
  return lines;
}

/**
 * The newest `limit` stored events matching the query, oldest first, read
 * from `events/YYYY-MM-DD/*.jsonl[.gz]` newest day first (days before
 * `since` are not opened; with `node`, only that node's stream and `_hub`).
 */
export async function queryEvents(root: string, q: EventsQuery): Promise<StoredEvent[]> {
  const base = path.join(root, 'events');
  const days = (await fs.readdir(base).catch(() => [] as string[]))
    .filter((d) => DAY.test(d))
    .sort()
    .reverse();
  const sinceDay = q.since ? new Date(q.since).toISOString().slice(0, 10) : null;
  const out: StoredEvent[] = [];
  for (const day of days) {
    if (sinceDay && day < sinceDay) break;
    const files = (await fs.readdir(path.join(base, day)).catch(() => [] as string[])).filter((f) => {
      const m = FILE.exec(f);
      return m && (!q.node || m[1] === q.node || m[1] === HUB_STREAM);
    });
    const found: StoredEvent[] = [];
    for (const f of files) {
      for (const line of await readLines(path.join(base, day, f)).catch(() => [] as string[])) {
        const d = decodeLine(line);
        if (d.ok && matches(d.record, q)) found.push(d.record);
      }
    }
    found.sort((a, b) => (a.rx < b.rx ? -1 : a.rx > b.rx ? 1 : 0));
    out.unshift(...found.slice(-(q.limit - out.length)));
    if (out.length >= q.limit) break;
  }
  return out;
}
