import os from 'node:os';
import path from 'node:path';
import { channelsOf, describeError, loadNotifyConfig } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse, UsageError } from '../args';
import { NOTIFY_HELP } from '../help';

/**
 * `homelab notify test`: one test message through each configured notifier,
 * with the same settings and code the hub uses (docs/notifications.md).
 */
export async function notifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { root: { type: 'string' } } as const);
  if (values.help) {
    console.log(NOTIFY_HELP);
    return 0;
  }
  if (positionals[0] !== 'test' || positionals.length > 1) throw new UsageError(`expected 'notify test', got 'notify ${positionals.join(' ')}'`);
  const root = path.resolve(values.root ?? process.env.HOMELAB_ROOT ?? '/opt/homelab');
  const config = await loadNotifyConfig(root, process.env);
  if (!config) {
    console.error(`homelab: no ${path.join(root, 'notifications.yaml')}: nothing is configured to notify (see docs/notifications.md)`);
    return 2;
  }
  const channels = channelsOf(config, createLogger('notify', { level: 'silent' }));
  if (channels.length === 0) {
    console.error(`homelab: ${config.file} names no notifier (telegram, ntfy or webhook)`);
    return 1;
  }
  const text = `homelab test message from ${os.hostname()} at ${new Date().toISOString()}: this notifier works.`;
  let failed = 0;
  for (const c of channels) {
    try {
      await c.sendTest(text);
      console.log(`${c.name}: ok`);
    } catch (err) {
      failed += 1;
      console.log(`${c.name}: FAILED: ${describeError(err)}`);
    }
  }
  return failed ? 1 : 0;
}
