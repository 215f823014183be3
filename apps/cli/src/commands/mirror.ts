import path from 'node:path';
import { createLogger } from '@homelab/logging';
import { keepAliveClock, PeriodicLoop } from '@homelab/runtime';
import { parse, UsageError } from '../args';
import { MIRROR_HELP } from '../help';
import { hubUrlSetting } from '../hub-client-settings';
import { resolveHubToken } from '../hub-token';
import { mirrorOnce, parseInterval } from '../mirror';
import { MIRROR_VIEW_OPTIONS, mirrorViewConfig, serveMirror } from '../mirror-serve';

/**
 * `homelab mirror --from <hub> --to <dir> [--interval 10s] [--once] [--serve]`: keeps a local copy
 * of world state, and with `--serve` shows it on a read-only page (docs/ui-api.md, "Mirror's page").
 */
export async function mirrorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    interval: { type: 'string', default: '10s' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    once: { type: 'boolean' },
    ...MIRROR_VIEW_OPTIONS,
  } as const);
  if (values.help) {
    console.log(MIRROR_HELP);
    return 0;
  }
  const from = values.from ?? hubUrlSetting(undefined, process.env);
  if (!from) throw new UsageError('mirror needs --from <hub url> (or HOMELAB_HUB_URL, or CONTROL_PLANE_URL)');
  if (!values.to) throw new UsageError('mirror needs --to <dir>');
  let intervalMs: number;
  try {
    intervalMs = parseInterval(values.interval);
    new URL(from);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const view = mirrorViewConfig(values, process.env);
  if (view.serve && values.once) throw new UsageError('--serve keeps running; it does not go with --once');
  const opts = { from, to: path.resolve(values.to), token: resolveHubToken(values, process.env, 'viewerToken') };
  let last: string | null = null;
  let wasOk: boolean | null = null;
  const mirror = async () => {
    const status = await mirrorOnce(opts, last);
    last = status.lastSuccess;
    // Log changes only: a hub down for a day is one line, not 8,640.
    if (status.ok !== wasOk)
      console.error(
        status.ok ? `mirror: ${from} → ${opts.to} ok` : `mirror: ${from} unreachable (${status.error}); keeping the last copy${last ? ` from ${last}` : ''}`,
      );
    wasOk = status.ok;
    return status;
  };
  if (values.once) return (await mirror()).ok ? 0 : 1;
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve).once('SIGTERM', resolve);
  });
  // Each copy starts intervalMs after the previous one ended; the loop's timers keep the process running.
  const log = createLogger('mirror');
  const served = view.serve ? await serveMirror(opts.to, view, log) : null;
  if (served) console.error(`mirror: read-only page of ${opts.to} on ${served.url}${view.token ? ' (view token required)' : ''}`);
  const loop = new PeriodicLoop({ name: 'mirror', clock: keepAliveClock, log, run: mirror });
  loop.start(intervalMs, 0);
  await stopRequested;
  await served?.close();
  await loop.stop(); // the copy in progress finishes first
  return 0;
}
