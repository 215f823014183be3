import path from 'node:path';
import { createLogger } from '@homelab/logging';
import { keepAliveClock, PeriodicLoop } from '@homelab/runtime';
import { parse, UsageError } from '../args';
import { MIRROR_HELP } from '../help';
import { hubUrlSetting } from '../hub-client-settings';
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
  const loop = new PeriodicLoop({ name: 'mirror', clock: keepAliveClock, log: createLogger('mirror'), run: mirror });
  loop.start(intervalMs, 0);
  await stopRequested;
  await loop.stop(); // the copy in progress finishes first
  return 0;
}
