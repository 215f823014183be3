import type { z } from 'zod';
import { WorldAtView, WorldDiff } from '@homelab/hub';
import { parse, UsageError } from '../args';
import { WORLD_HELP } from '../help';
import { callHub } from '../hub-api';
import { DEFAULT_HUB_URL, hubUrlSetting } from '../hub-client-settings';
import { resolveHubToken } from '../hub-token';

const CurrentWorld = WorldAtView.pick({ services: true, nodes: true });
type World = z.infer<typeof CurrentWorld>;

/** One line per node and per service, problems visible at a glance. */
export function worldText(w: World): string {
  const lines: string[] = [];
  for (const [name, n] of Object.entries(w.nodes).sort(([a], [b]) => a.localeCompare(b))) {
    const disks = Object.values(n.disks)
      .filter((d) => d.level !== 'ok')
      .map((d) => ` disk ${d.mount} ${d.level} ${d.usedPercent}%`)
      .join('');
    lines.push(
      `node ${name}: ${n.online === null ? 'never seen' : n.online ? 'online' : 'offline'}${n.dockerReachable === false ? ', docker unreachable' : ''}${disks}`,
    );
  }
  for (const [key, s] of Object.entries(w.services).sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`  ${key}: ${s.status}${s.reason ? ` (${s.reason})` : ''} since ${s.since}`);
  return lines.length ? lines.join('\n') : 'no nodes or services';
}

/** `+` appeared, `-` went, `~` changed, before → after. */
export function diffText(d: z.infer<typeof WorldDiff>): string {
  const show = (v: unknown) => JSON.stringify(v);
  const lines = [`changes from ${d.from} to ${d.to}:`];
  for (const [kind, part] of [
    ['node', d.nodes],
    ['service', d.services],
  ] as const) {
    for (const a of part.added) lines.push(`+ ${kind} ${a.key} ${show(a.after)}`);
    for (const r of part.removed) lines.push(`- ${kind} ${r.key} ${show(r.before)}`);
    for (const c of part.changed) lines.push(`~ ${kind} ${c.key} ${show(c.before)} → ${show(c.after)}`);
  }
  return lines.length > 1 ? lines.join('\n') : `${lines[0]} none`;
}

/** `homelab world [--at <time>] [--diff <t1> <t2>]` (docs/ui-api.md, "World at a past instant"). */
export async function worldCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    hub: { type: 'string' },
    at: { type: 'string' },
    diff: { type: 'string' },
    json: { type: 'boolean' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
  } as const);
  if (values.help) {
    console.log(WORLD_HELP);
    return 0;
  }
  if (values.diff !== undefined && positionals.length !== 1) throw new UsageError('--diff needs two times: --diff <t1> <t2>');
  if (values.diff === undefined && positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`);
  if (values.diff !== undefined && values.at !== undefined) throw new UsageError('give --at or --diff <t1> <t2>, not both');
  const hub = hubUrlSetting(values.hub, process.env) ?? DEFAULT_HUB_URL;
  const q = new URLSearchParams();
  if (values.diff !== undefined) {
    q.set('at', values.diff);
    q.set('diff', positionals[0]!);
  } else if (values.at !== undefined) q.set('at', values.at);
  const { status, json } = await callHub(hub, resolveHubToken(values, process.env, 'viewerToken'), 'GET', `/api/world${q.size ? `?${q}` : ''}`);
  if (status === 400) throw new UsageError(json.message ?? 'bad time');
  if (status !== 200) throw new Error(json.message ?? `hub answered ${status}`);
  if (values.json) console.log(JSON.stringify(json, null, 2));
  else if (values.diff !== undefined) console.log(diffText(json));
  else
    console.log(
      `${json.at ? `world at ${json.at}${json.basedOn ? ` (from the snapshot of ${json.basedOn} plus ${json.applied} events)` : ` (${json.applied} events folded from the start of the log)`}\n` : ''}${worldText(json)}`,
    );
  return 0;
}
