import { userInfo } from 'node:os';
import { ActionState, ActionType, type Action } from '@homelab/contracts';
import { parse, UsageError } from '../args';
import { ACTIONS_HELP } from '../help';
import { callHub } from '../hub-api';
import { DEFAULT_HUB_URL, hubUrlSetting } from '../hub-client-settings';
import { resolveHubToken } from '../hub-token';

const OPTIONS = {
  hub: { type: 'string' },
  state: { type: 'string' },
  by: { type: 'string' },
  note: { type: 'string' },
  json: { type: 'boolean' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

let token: string | undefined;

const call = (hub: string, method: 'GET' | 'POST', path: string, body?: unknown) => callHub(hub, token, method, path, body);

function line(a: Action): string {
  const preview = a.preview ? ` [would reclaim ${megabytes(a.preview.reclaimedBytes)}]` : '';
  return `${a.state.padEnd(9)} ${a.risk.padEnd(7)} ${a.id}  ${a.summary}${preview}`;
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export async function actionsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [verb, id, ...rest] = positionals;
  if (values.help || !verb) {
    console.log(ACTIONS_HELP);
    return verb || values.help ? 0 : 2;
  }
  const hub = hubUrlSetting(values.hub, process.env) ?? DEFAULT_HUB_URL;
  token = resolveHubToken(values, process.env);
  switch (verb) {
    case 'list': {
      const state = values.state ? ActionState.parse(values.state) : undefined;
      const { status, json } = await call(hub, 'GET', `/api/actions${state ? `?state=${state}` : ''}`);
      if (status !== 200) throw new Error(json.message ?? `hub answered ${status}`);
      const actions = json.actions as Action[];
      if (values.json) console.log(JSON.stringify(actions, null, 2));
      else console.log(actions.length ? actions.map(line).join('\n') : 'no actions');
      return 0;
    }
    case 'show':
    case 'approve':
    case 'reject': {
      if (!id) throw new UsageError(`actions ${verb} needs an action id`);
      const { status, json } =
        verb === 'show'
          ? await call(hub, 'GET', `/api/actions/${encodeURIComponent(id)}`)
          : await call(hub, 'POST', `/api/actions/${encodeURIComponent(id)}/${verb}`, {
              by: values.by ?? userInfo().username,
              ...(values.note ? { note: values.note } : {}),
            });
      if (status !== 200) {
        console.error(`${verb} ${id}: ${json.message ?? `hub answered ${status}`}`);
        return status === 404 ? 3 : status === 409 ? 4 : 1;
      }
      console.log(verb === 'show' || values.json ? JSON.stringify(json, null, 2) : `${id}: ${(json as Action).state}`);
      return 0;
    }
    case 'propose': {
      // `homelab actions propose <type> <node> [service]` (docs/actions.md, "Manual actions").
      const type = ActionType.safeParse(id === 'restart' ? 'container_restart' : id);
      if (!type.success) throw new UsageError(`actions propose needs a type: ${ActionType.options.join(', ')} (or restart)`);
      const [node, service] = rest;
      if (!node) throw new UsageError('actions propose needs a node');
      const { status, json } = await call(hub, 'POST', '/api/actions', {
        type: type.data,
        node,
        ...(service ? { service } : {}),
        by: values.by ?? userInfo().username,
        ...(values.note ? { note: values.note } : {}),
      });
      if (status !== 200) {
        console.error(`propose ${type.data} ${node}${service ? `/${service}` : ''}: ${json.message ?? `hub answered ${status}`}`);
        return status === 404 ? 3 : status === 409 ? 4 : 1;
      }
      const a = json as Action;
      console.log(values.json ? JSON.stringify(a, null, 2) : `${line(a)}\napprove it with: homelab actions approve ${a.id}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown actions subcommand '${verb}' (list, show, approve, reject, propose)`);
  }
}
