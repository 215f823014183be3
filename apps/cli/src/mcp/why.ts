import { z } from 'zod';
import { Action, StoredEvent } from '@homelab/contracts';
import type { HubAnswer, HubReader } from './hub-reader';

/** The chain event → drift → action → command → result of one action (docs/mcp.md, `why`). */
export const WhyChain = z.object({
  action: Action,
  /** The drift's evidence events found in the log, oldest first. */
  evidence: z.array(StoredEvent),
  /** Evidence ids not among the newest events of the action's node/service (older than the API returns). */
  missingEventIds: z.array(z.string()),
  /** The same chain as lines of text. */
  text: z.string(),
});
export type WhyChain = z.infer<typeof WhyChain>;

/** The most events `GET /api/events` returns (docs/ui-api.md); evidence older than that is named, not shown. */
const EVENTS_MAX = 1000;

const eventLine = (e: StoredEvent): string => {
  const ev = e.event as { id: string; type: string; node: string; service?: string };
  return `  ${e.rx} ${ev.type} ${ev.node}${ev.service ? `/${ev.service}` : ''} (${ev.id})`;
};

/** Pure: the chain of `action` given the events fetched for its node/service. */
export function buildChain(action: Action, events: StoredEvent[]): WhyChain {
  const wanted = new Set(action.drift.eventIds);
  const evidence = events.filter((e) => wanted.has(e.event.id));
  const found = new Set(evidence.map((e) => e.event.id));
  const missingEventIds = action.drift.eventIds.filter((id) => !found.has(id));
  const target = `${action.node}${action.service ? `/${action.service}` : ''}`;
  const lines = [
    `events (${evidence.length} of ${action.drift.eventIds.length}):`,
    ...evidence.map(eventLine),
    ...(missingEventIds.length ? [`  not in the newest ${EVENTS_MAX} events of ${target}: ${missingEventIds.join(', ')}`] : []),
    `drift: ${action.drift.type}${action.drift.reason ? ` (${action.drift.reason})` : ''} since ${action.drift.firstSeen}`,
    `action: ${action.id} ${action.type} ${target}, ${action.risk} risk, now ${action.state}: ${action.summary}`,
    'audit:',
    ...action.audit.map((a) => `  ${a.at} ${a.state} by ${a.by} via ${a.via}${a.note ? ` — ${a.note}` : ''}`),
    action.command ? `command: sent ${action.command.sentAt}, deadline ${action.command.deadline}, ${action.command.attempts} attempt(s)` : 'command: not sent',
    action.result
      ? `result: ${action.result.status}${action.result.error ? ` ${action.result.error.code}: ${action.result.error.message}` : ''} (${action.result.startedAt} → ${action.result.finishedAt})`
      : 'result: none yet',
  ];
  return { action, evidence, missingEventIds, text: lines.join('\n') };
}

/** Reads the action and the events of its node/service from the hub and builds its chain. */
export async function whyChain(hub: HubReader, id: string): Promise<HubAnswer<WhyChain>> {
  const action = await hub.get(`/api/actions/${encodeURIComponent(id)}`, Action);
  if (!action.ok) return action;
  const a = action.value;
  if (a.drift.eventIds.length === 0) return { ok: true, value: buildChain(a, []) };
  const params = new URLSearchParams({ node: a.node, limit: String(EVENTS_MAX) });
  if (a.service) params.set('service', a.service);
  const events = await hub.get(`/api/events?${params}`, z.object({ events: z.array(StoredEvent) }));
  if (!events.ok) return events;
  return { ok: true, value: buildChain(a, events.value.events) };
}
