import type { Action, StoredEvent } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { decisionForms, historyEntry, riskBadge, stateBadge, where } from './action-view';
import { ago, badge, html, type Html } from './html';

/** The events page showing one event: node's stream (and the hub's), by id. */
export const eventHref = (node: string, id: string) => `/events?node=${encodeURIComponent(node)}&id=${encodeURIComponent(id)}`;

function eventLine(node: string, id: string, r: StoredEvent | undefined, now: Date): Html {
  const link = html`<a href="${eventHref(node, id)}">${id}</a>`;
  if (!r) return html`<li>${link} <span class="muted">(not among the node's recent events)</span></li>`;
  const d = (r.event as { data?: { reason?: string; detail?: string } }).data;
  return html`<li>${link} ${r.event.type}${'service' in r.event && html` ${r.event.service}`}${d?.reason && html` · ${d.reason}`}${d?.detail && html` <span class="muted">${d.detail}</span>`} · received ${ago(r.rx, now)}</li>`;
}

const decisions = (a: Action) => a.audit.filter((e) => ['approved', 'rejected', 'cancelled'].includes(e.state));

/**
 * Why an action exists and what became of it (docs/ui-api.md, "Pages"): the
 * events that opened the drift → the drift → the action and its decision →
 * the command sent → the agent's result → what the node reported after,
 * each event linked to the events page.
 */
export function actionChainBody(a: Action, events: Map<string, StoredEvent>, after: StoredEvent[], p: Principal, now: Date): Html {
  const r = a.result;
  const step = (title: string, body: Html | string) => html`<li class="card"><h3>${title}</h3>${body}</li>`;
  return html`<h1>Action ${a.id}</h1>
<p>${stateBadge(a.state)} ${riskBadge(a.risk)} ${a.type} on ${where(a)} · <a href="/actions">all actions</a></p>
<ol class="chain" id="chain">
${step(
  '1. Events',
  a.drift.eventIds.length
    ? html`<ul>${a.drift.eventIds.map((id) => eventLine(a.node, id, events.get(id), now))}</ul>`
    : html`<p class="muted">no events recorded (a manual proposal, or the drift was found without one)</p>`,
)}
${step('2. Drift', html`<p>${a.drift.type}${a.drift.reason && html` · ${a.drift.reason}`}, first seen ${ago(a.drift.firstSeen, now)}</p>`)}
${step(
  '3. Action',
  html`<p>${a.summary}</p><p>proposed ${ago(a.createdAt, now)}${a.escalation && html` · escalated: ${a.escalation.restarts} ${a.escalation.from} in ${a.escalation.window}`}</p>
${decisions(a).map((e) => html`<p>${stateBadge(e.state)} by ${e.by} (${e.via}) ${ago(e.at, now)}${e.note && html` · ${e.note}`}</p>`)}
<p class="actions-cell">${decisionForms(a, p)}</p>`,
)}
${step(
  '4. Command',
  a.command
    ? html`<p>sent ${ago(a.command.sentAt, now)} to ${a.node}, ${a.command.attempts} ${a.command.attempts === 1 ? 'attempt' : 'attempts'}, deadline ${ago(a.command.deadline, now)}</p>`
    : html`<p class="muted">not sent${a.state === 'pending' ? ' (waiting for a decision)' : ''}</p>`,
)}
${step(
  '5. Result',
  r
    ? html`<p>${badge(r.status, r.status === 'completed' ? 'ok' : 'bad')} finished ${ago(r.finishedAt, now)}${r.error && html` · <code>${r.error.code}</code> ${r.error.message}`}</p>`
    : html`<p class="muted">no result yet</p>`,
)}
${
  r &&
  step(
    '6. After',
    after.length
      ? html`<ul>${after.map((e) => eventLine(a.node, e.event.id, e, now))}</ul>`
      : html`<p class="muted">nothing reported about ${a.service ?? a.node} since</p>`,
  )
}
</ol>
<h2>Output and audit</h2>${historyEntry(a, now)}`;
}
