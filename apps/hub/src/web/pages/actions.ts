import type { Action, Summary } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { historyEntry, pendingCard } from './action-view';
import { html, type Html } from './html';

export function actionsBody(s: Summary, p: Principal, now: Date): Html {
  const waiting = s.actions.pending.filter((a) => a.state === 'pending');
  const approved = [...s.actions.pending.filter((a) => a.state !== 'pending'), ...s.actions.running];
  return html`<h1>Actions</h1>
<h2>Pending (${waiting.length})</h2>
${waiting.length ? waiting.map((a) => pendingCard(a, p, now)) : html`<p class="muted" id="empty-actions">Nothing waits for a decision. Actions appear here when the supervisor finds something it can fix — a service down or unhealthy, a disk filling up — or when an operator proposes a restart, redeploy or disk cleanup from a node's page. Each waits here for Approve or Reject; nothing runs without it.</p>`}
<h2>Approved and running (${approved.length})</h2>
${approved.length ? approved.map((a) => pendingCard(a, p, now)) : html`<p class="muted">none</p>`}
${p.role !== 'operator' && html`<p class="muted">Signed in as a viewer: read-only.</p>`}`;
}

export const HISTORY_STATES = ['completed', 'failed', 'rejected', 'cancelled'] as const;

export function historyBody(actions: Action[], now: Date, filter: { state?: string }): Html {
  const opts = ['', ...HISTORY_STATES].map((s) => html`<option value="${s}"${filter.state === s && html` selected`}>${s || 'all'}</option>`);
  return html`<h1>History</h1>
<form class="filters" method="get"><label>Result <select name="state">${opts}</select></label><button type="submit">Filter</button></form>
${actions.length ? actions.map((a) => historyEntry(a, now)) : html`<p class="muted" id="empty-history">No finished actions${filter.state ? html` ${filter.state}` : ''} yet. Every action ends here once it completed, failed, was rejected or cancelled, with its result, output and audit.</p>`}
<p class="muted">${actions.length} shown, newest first.</p>`;
}
