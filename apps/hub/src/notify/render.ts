import { createHash } from 'node:crypto';
import type { NotifyItem } from '@homelab/contracts';
import type { OutboxMessage } from './outbox';

/** Plain text (no markup), so nothing a node reports can format a message. */
export interface Rendered {
  title: string;
  /** The whole message as it stands now (the opening, and a Telegram edit). */
  text: string;
  /** What changed since the last delivery (a follow-up on ntfy or a webhook). */
  update: string;
  /** Telegram: one row of Approve / Reject per pending action. */
  buttons: { text: string; data: string }[][];
  /** Whether any item still waits for a decision (ntfy priority). */
  needsDecision: boolean;
}

/** The short handle of an item in a button (Telegram allows 64 bytes of callback data; ids may be 192). */
export const itemToken = (key: string): string => createHash('sha256').update(key).digest('base64url').slice(0, 16);

/** Callback data of the buttons: `a:` approve, `r:` reject, then the token. */
export const buttonData = (choice: 'a' | 'r', key: string): string => `${choice}:${itemToken(key)}`;

const MAX_BUTTON_ROWS = 10;

function subject(i: NotifyItem): string {
  if (i.kind === 'node') return `node ${i.node}`;
  return `${i.type ?? 'action'} ${i.node}${i.service ? `/${i.service}` : ''}`;
}

function decided(i: NotifyItem): string {
  return i.decidedBy ? ` by ${i.decidedBy}${i.decidedVia ? ` via ${i.decidedVia}` : ''}` : '';
}

/** One line saying where an item stands. */
export function stateLine(i: NotifyItem): string {
  switch (i.state) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
      return `approved${decided(i)}`;
    case 'running':
      return `running (approved${decided(i)})`;
    case 'completed':
      return `completed (approved${decided(i)})`;
    case 'failed':
      return `failed${i.error ? `: ${i.error}` : ''}${i.decidedBy ? ` (approved${decided(i)})` : ''}`;
    case 'rejected':
      return `rejected${decided(i)}`;
    case 'cancelled':
      return i.cancelReason === 'drift_resolved_auto' ? 'recovered by itself (action cancelled)' : `cancelled${i.cancelReason ? ` (${i.cancelReason})` : ''}`;
    case 'offline':
      return `offline since ${shortTime(i.since)}`;
    case 'online':
      return 'back online';
  }
}

const shortTime = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function itemBlock(i: NotifyItem): string[] {
  const lines = [`${subject(i)}${i.risk ? ` · ${i.risk} risk` : ''}: ${stateLine(i)}`];
  if (i.kind === 'action') {
    if (i.summary) lines.push(`Why: ${i.summary}`);
    if (i.why) lines.push(`Drift: ${i.why}`);
  }
  return lines;
}

export function render(m: OutboxMessage, changed: readonly string[], uiUrl: string | undefined): Rendered {
  const items = Object.values(m.items).sort((a, b) => a.since.localeCompare(b.since) || a.key.localeCompare(b.key));
  const open = items.filter((i) => i.state === 'pending');
  const title =
    items.length === 1 ? `${m.node}: ${subject(items[0]!)} ${items[0]!.state}` : `${m.node}: ${items.length} problems, ${open.length} waiting for approval`;
  const link = uiUrl ? [`${uiUrl.replace(/\/$/, '')}/${items.some((i) => i.kind === 'action') ? 'actions' : `nodes/${encodeURIComponent(m.node)}`}`] : [];
  const blocks = items.map((i) => (items.length === 1 ? itemBlock(i) : itemBlock(i).map((l, n) => (n === 0 ? `• ${l}` : `  ${l}`))));
  const text = [title, '', ...blocks.flat(), ...(link.length ? ['', ...link] : [])].join('\n');
  const changedItems = items.filter((i) => changed.includes(i.key));
  const update = [`${m.node}: update`, ...changedItems.map((i) => `${subject(i)}: ${stateLine(i)}`), ...link].join('\n');
  const label = (i: NotifyItem) => (items.length === 1 ? '' : ` ${i.service ?? i.type ?? ''}`.slice(0, 40));
  const buttons = open
    .filter((i) => i.kind === 'action')
    .slice(0, MAX_BUTTON_ROWS)
    .map((i) => [
      { text: `Approve${label(i)}`, data: buttonData('a', i.key) },
      { text: `Reject${label(i)}`, data: buttonData('r', i.key) },
    ]);
  return { title, text, update, buttons, needsDecision: open.length > 0 };
}
