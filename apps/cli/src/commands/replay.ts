import path from 'node:path';
import { replay } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { REPLAY_HELP } from '../help';

export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { root: { type: 'string' } } as const);
  if (values.help) {
    console.log(REPLAY_HELP);
    return 0;
  }
  const root = path.resolve(values.root ?? process.env.HOMELAB_ROOT ?? '/opt/homelab');
  const aliases = process.env.NODE_ALIAS_MAP ? (JSON.parse(process.env.NODE_ALIAS_MAP) as Record<string, string>) : {};
  const started = Date.now();
  const result = await replay(root, { aliases, log: createLogger('replay') });
  const secs = (Date.now() - started) / 1000;
  console.log(`replayed ${JSON.stringify(result)} in ${secs.toFixed(2)} s`);
  return 0;
}
