/**
 * A first operator page: fleet, services, pending actions with approve and
 * reject, recent history. Plain HTML and a little script, no build step; it
 * reads the same `/summary` the API serves.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>homelab</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1rem;background:#f6f7f9;color:#1d2330}
h1{font-size:1.2rem;margin:0 0 1rem}h2{font-size:1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:.35rem .5rem;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
.ok{color:#17803d}.bad{color:#b42318}.muted{color:#6b7280}button{margin-right:.3rem}
</style></head><body>
<h1>homelab <span id="gen" class="muted"></span></h1>
<h2>Pending actions</h2><table id="pending"></table>
<h2>Notices</h2><table id="notices"></table>
<h2>Nodes</h2><table id="nodes"></table>
<h2>Services</h2><table id="services"></table>
<h2>Recent actions</h2><table id="recent"></table>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const rows = (el, head, items, row) => { document.getElementById(el).innerHTML = '<tr>' + head.map((h) => '<th>' + h + '</th>').join('') + '</tr>' + (items.length ? items.map(row).join('') : '<tr><td class="muted" colspan="' + head.length + '">none</td></tr>'); };
async function decide(id, verb) {
  if (verb === 'approve' && document.querySelector('[data-risk="' + id + '"]')?.dataset.value === 'guarded' && !confirm('Approve guarded action ' + id + '?')) return;
  const r = await fetch('/api/actions/' + encodeURIComponent(id) + '/' + verb, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (!r.ok) alert((await r.json()).message);
  refresh();
}
async function refresh() {
  const s = await (await fetch('/summary')).json();
  document.getElementById('gen').textContent = new Date(s.generatedAt).toLocaleTimeString();
  rows('pending', ['Action', 'Why', 'Risk', ''], s.actions.pending, (a) => '<tr><td>' + esc(a.id) + '</td><td>' + esc(a.summary) + '</td><td data-risk="' + esc(a.id) + '" data-value="' + esc(a.risk) + '">' + esc(a.risk) + '</td><td>' + (a.state === 'pending' ? '<button onclick="decide(\\'' + esc(a.id) + '\\',\\'approve\\')">Approve</button><button onclick="decide(\\'' + esc(a.id) + '\\',\\'reject\\')">Reject</button>' : esc(a.state)) + '</td></tr>');
  rows('notices', ['Where', 'What'], [...s.configProblems.map((p) => ({ where: p.file + ' ' + p.path, what: p.message })), ...s.findings.map((f) => ({ where: f.node + (f.service ? '/' + f.service : ''), what: f.message }))], (n) => '<tr><td>' + esc(n.where) + '</td><td>' + esc(n.what) + '</td></tr>');
  rows('nodes', ['Node', 'Status', 'Last seen', 'Desired services'], s.nodes, (n) => '<tr><td>' + esc(n.node) + '</td><td class="' + (n.online ? 'ok' : 'bad') + '">' + (n.online === null ? 'never seen' : n.online ? 'online' : 'offline') + '</td><td>' + esc(n.lastSeen) + '</td><td>' + n.desiredServices + '</td></tr>');
  rows('services', ['Service', 'Health', 'Reason', 'Since'], s.services, (v) => '<tr><td>' + esc(v.node + '/' + v.service) + '</td><td class="' + (v.status === 'healthy' ? 'ok' : 'bad') + '">' + esc(v.status) + '</td><td>' + esc(v.reason) + '</td><td>' + esc(v.since) + '</td></tr>');
  rows('recent', ['Action', 'State', 'Updated', 'Output'], s.actions.recent, (a) => '<tr><td>' + esc(a.id) + '</td><td>' + esc(a.state) + '</td><td>' + esc(a.updatedAt) + '</td><td>' + esc(a.result?.output ?? a.cancelReason ?? '') + '</td></tr>');
}
refresh(); setInterval(refresh, 3000);
</script></body></html>`;
