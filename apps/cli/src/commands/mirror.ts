import path from 'node:path';
import { parse, UsageError } from '../args';
import { MIRROR_HELP } from '../help';
import { resolveHubToken } from '../hub-token';
import { mirrorOnce, parseInterval } from '../mirror';

/** `homelab mirror --from <hub> --to <dir> [--interval 10s] [--once]`: keeps a local copy of world state. */
export async function mirrorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    interval: { type: 'string', default: '10s' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    once: { type: 'boolean' },
  } as const);
  if (values.help) {
    console.log(MIRROR_HELP);
    return 0;
  }
  const from = values.from ?? process.env.HOMELAB_HUB_URL;
  if (!from) throw new UsageError('mirror needs --from <hub url> (or HOMELAB_HUB_URL)');
  if (!values.to) throw new UsageError('mirror needs --to <dir>');
  let intervalMs: number;
  try {
    intervalMs = parseInterval(values.interval);
    new URL(from);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const opts = { from, to: path.resolve(values.to), token: resolveHubToken(values, process.env, 'viewerToken') };
  let last: string | null = null;
  let wasOk: boolean | null = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  for (;;) {
    const status = await mirrorOnce(opts, last);
    last = status.lastSuccess;
    // Log changes only: a hub down for a day is one line, not 8,640.
    if (status.ok !== wasOk) console.error(status.ok ? `mirror: ${from} → ${opts.to} ok` : `mirror: ${from} unreachable (${status.error}); keeping the last copy${last ? ` from ${last}` : ''}`);
    wasOk = status.ok;
    if (values.once) return status.ok ? 0 : 1;
    const until = Date.now() + intervalMs;
    while (!stopped && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
    if (stopped) return 0;
  }
}
