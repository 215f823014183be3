import { AdoptDraftView, AdoptWriteResult, NodeName } from '@homelab/contracts';
import { parse, UsageError } from '../args';
import { ADOPT_HELP } from '../help';
import { callHub } from '../hub-api';
import { resolveHubToken } from '../hub-token';
import { DEFAULT_HUB_URL, hubUrlSetting } from '../hub-client-settings';

const OPTIONS = {
  hub: { type: 'string' },
  node: { type: 'string' },
  write: { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

/** What the draft adds, skips and replaces, for the terminal. */
function report(d: AdoptDraftView): string {
  const lines = d.added.map(
    (s) => `  + ${s.name} (${s.containers.join(', ')})${s.compose ? ` compose ${s.compose.project}` : ''}${s.healthcheck ? ', healthcheck' : ''}`,
  );
  for (const s of d.skipped) lines.push(`  - ${s.container}: ${s.reason}`);
  for (const r of d.replaced) lines.push(`  ! ${r} replaced (--force)`);
  return lines.join('\n');
}

/**
 * `homelab adopt --node <name>`: the draft of hosts/<node>/services.yaml from
 * the node's running containers, shown as a diff; `--write` writes that very
 * draft (docs/services-yaml.md, "Adopting what runs").
 */
export async function adoptCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, OPTIONS);
  if (values.help) {
    console.log(ADOPT_HELP);
    return 0;
  }
  if (!values.node) throw new UsageError('adopt needs --node <name>');
  const node = NodeName.safeParse(values.node);
  if (!node.success) throw new UsageError(`--node ${JSON.stringify(values.node)}: ${node.error.issues[0]?.message ?? 'not a node name'}`);
  const hub = hubUrlSetting(values.hub, process.env) ?? DEFAULT_HUB_URL;
  const token = resolveHubToken(values, process.env, values.write ? 'operatorToken' : 'viewerToken');
  const path = `/api/nodes/${node.data}/adopt`;
  const got = await callHub(hub, token, 'GET', `${path}${values.force ? '?force=true' : ''}`);
  if (got.status !== 200) throw new Error(`adopt ${node.data}: ${got.json.message ?? `hub answered ${got.status}`}`);
  const draft = AdoptDraftView.parse(got.json);
  if (draft.refused) {
    console.error(`adopt ${node.data}: ${draft.refused}`);
    return 4;
  }
  if (values.json && !values.write) console.log(JSON.stringify(draft, null, 2));
  else if (draft.diff === '') console.log(`${draft.file}: nothing to adopt (every container is described or opted out)\n${report(draft)}`);
  else console.log(`${draft.diff}\n${report(draft)}`);
  if (draft.problems.length) {
    for (const p of draft.problems) console.error(`${p.file}: ${p.path}: ${p.message}`);
    return 1;
  }
  if (!values.write) {
    if (draft.diff !== '') console.log(`\nNot written. Run again with --write to write ${draft.file}.`);
    return 0;
  }
  const put = await callHub(hub, token, 'POST', path, { baseRevision: draft.baseRevision, ...(values.force ? { force: true } : {}) });
  if (put.status !== 200) {
    console.error(`adopt ${node.data}: ${put.json.message ?? `hub answered ${put.status}`}`);
    return put.status === 409 ? 4 : 1;
  }
  const result = AdoptWriteResult.parse(put.json);
  console.log(values.json ? JSON.stringify(result, null, 2) : result.written ? `wrote ${draft.file}` : `${draft.file} unchanged`);
  return 0;
}
