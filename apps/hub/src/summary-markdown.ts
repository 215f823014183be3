import { findingSubject, type Action, type Summary } from '@homelab/contracts';
import { markdownText as md } from './summary-text';

const MAX_LINES = 40;
const RECENT_FAILURE_MS = 24 * 60 * 60_000;

function since(iso: string | null | undefined, now: Date): string {
  if (!iso) return 'unknown';
  const min = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 60_000));
  const span = min < 60 ? `${min} min` : min < 2880 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${Math.floor(min / 1440)} d`;
  return `${md(iso)} (${span} ago)`;
}

const where = (a: { node: string; service?: string }) => md(a.service ? `${a.node}/${a.service}` : a.node);
/** Node-supplied text on one line, shortened, then escaped (so a cut never splits an escape). */
const oneLine = (s: string, max = 200) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return md(t.length > max ? `${t.slice(0, max - 1)}…` : t);
};

function capped(lines: string[], what: string): string[] {
  if (lines.length <= MAX_LINES) return lines;
  return [...lines.slice(0, MAX_LINES), `- … and ${lines.length - MAX_LINES} more ${what} (see the UI or /summary)`];
}

function lastOutputLine(a: Action): string {
  const lines = (a.result?.output ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? oneLine(lines.at(-1)!, 160) : '';
}

/**
 * "Copy for AI" and `GET /summary?format=markdown`: what is wrong, what waits
 * for a decision, what failed lately — each with node, service and since
 * when — short enough to paste into a chat. `copyOf` marks a copy served
 * away from the hub (`homelab mirror --serve`, docs/ui-api.md "Mirror"): a
 * line under the title names the hub and how old the copy is.
 */
export function summaryMarkdown(s: Summary, now: Date = new Date(s.generatedAt), copyOf?: { hub: string; copiedAt: string }): string {
  const unhealthy = s.services.filter((v) => v.status !== 'healthy');
  const offline = s.nodes.filter((n) => n.online === false);
  const online = s.nodes.filter((n) => n.online === true).length;
  const pending = s.actions.pending;
  const out: string[] = [
    `# homelab status ${s.generatedAt}`,
    '',
    ...(copyOf ? [`Read-only copy of ${md(copyOf.hub)}, copied ${since(copyOf.copiedAt, now)}.`, ''] : []),
    `Nodes: ${s.nodes.length} (${online} online, ${offline.length} offline). Services: ${s.services.length} (${unhealthy.length} unhealthy). ` +
      `Actions: ${s.actions.counts.pending ?? 0} pending, ${(s.actions.counts.approved ?? 0) + (s.actions.counts.running ?? 0)} approved or running.`,
    '',
    '## Problems',
  ];
  const problems: string[] = [];
  for (const n of offline) problems.push(`- node ${md(n.node)}: offline since ${since(n.statusSince, now)}; last seen ${md(n.lastSeen ?? 'never')}`);
  for (const n of s.nodes) {
    if (n.dockerReachable === false) problems.push(`- node ${md(n.node)}: Docker engine unreachable`);
    for (const d of Object.values(n.disks)) {
      if (d.level !== 'ok') problems.push(`- node ${md(n.node)}: disk ${md(d.mount)} at ${d.usedPercent}% (${md(d.level)}) since ${since(d.since, now)}`);
    }
  }
  for (const v of unhealthy) {
    problems.push(
      `- ${where(v)}: ${md(v.status)}${v.reason ? `, ${md(v.reason)}` : ''}${v.detail ? ` (${oneLine(v.detail, 160)})` : ''} since ${since(v.since, now)}`,
    );
  }
  out.push(...(problems.length ? capped(problems, 'problems') : ['- none']), '', '## Pending actions');
  const pendingLines = pending.map(
    (a) => `- ${md(a.id)} [${md(a.state)}, risk ${md(a.risk)}] on ${where(a)}: ${oneLine(a.summary)} (proposed ${since(a.createdAt, now)})`,
  );
  out.push(...(pendingLines.length ? capped(pendingLines, 'actions') : ['- none']));
  if (s.actions.running.length) {
    out.push('', '## Running actions', ...s.actions.running.map((a) => `- ${md(a.id)} on ${where(a)} since ${since(a.updatedAt, now)}`));
  }
  const failures = s.actions.recent.filter((a) => a.state === 'failed' && now.getTime() - Date.parse(a.updatedAt) <= RECENT_FAILURE_MS);
  out.push('', '## Recent failures (24 h)');
  out.push(
    ...(failures.length
      ? capped(
          failures.map((a) => {
            const err = a.result?.error ? `${oneLine(a.result.error.code, 64)}: ${oneLine(a.result.error.message, 160)}` : 'no result';
            const tail = lastOutputLine(a);
            return `- ${md(a.id)} on ${where(a)} failed ${since(a.updatedAt, now)}: ${err}${tail ? `; last output: ${tail}` : ''}`;
          }),
          'failures',
        )
      : ['- none']),
  );
  const notices = [
    ...s.findings.map((f) => `- ${md(f.kind)} ${md(findingSubject(f))}: ${oneLine(f.message)}${f.until ? ` (until ${md(f.until)})` : ''}`),
    ...s.configProblems.map((p) => `- config ${oneLine(p.file)} ${oneLine(p.path)}: ${oneLine(p.message)}`),
  ];
  if (notices.length) out.push('', '## Notices', ...capped(notices, 'notices'));
  return `${out.join('\n')}\n`;
}
