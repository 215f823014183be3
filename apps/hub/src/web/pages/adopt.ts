import type { AdoptDraftView } from '@homelab/contracts';
import type { Principal } from '../auth/guard';
import { html, type Html } from './html';

/**
 * The draft of `homelab adopt` for one node (docs/services-yaml.md, "Adopting
 * what runs"): what it adds, what it leaves out, the diff; for an operator the
 * confirmation, a plain form that writes exactly the draft of the file shown.
 */
export function adoptBody(d: AdoptDraftView, p: Principal): Html {
  const node = encodeURIComponent(d.node);
  const added = d.added.map(
    (s) =>
      html`<li><b>${s.name}</b> (${s.containers.join(', ')})${s.compose && html` · compose ${s.compose.project}`}${s.healthcheck ? ' · healthcheck' : ''}${s.composeMissing && html` · <span class="muted">${s.composeMissing}</span>`}</li>`,
  );
  const skipped = d.skipped.map((s) => html`<li>${s.container}: ${s.reason}</li>`);
  const canWrite = p.role === 'operator' && !d.refused && d.problems.length === 0 && d.diff !== '';
  const write =
    canWrite &&
    html`<form method="post" action="/api/nodes/${node}/adopt"><input type="hidden" name="_csrf" value="${p.session?.csrf ?? ''}"><input type="hidden" name="baseRevision" value="${d.baseRevision}"><button class="approve" type="submit" id="adopt-write">Write ${d.file}</button></form>`;
  return html`<h1>Adopt what runs on ${d.node}</h1>
${d.refused && html`<p class="card"><b>Cannot merge:</b> ${d.refused}</p>`}
${d.problems.map((x) => html`<p class="card">${x.path}: ${x.message}</p>`)}
<h2>Adds</h2>${added.length ? html`<ul>${added}</ul>` : html`<p class="muted">Nothing to adopt: every container is described in ${d.file} or opted out.</p>`}
${skipped.length > 0 && html`<h2>Left out</h2><ul>${skipped}</ul>`}
${d.diff !== '' && html`<h2>Diff against ${d.file}</h2><pre class="diff">${d.diff}</pre>`}
${write}${p.role !== 'operator' && html`<p class="muted">Viewers see the draft; an operator writes it.</p>`}
<p><a href="/nodes/${node}">back to ${d.node}</a></p>`;
}
