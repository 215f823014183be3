import { describe, expect, it } from 'vitest';
import { ACTION_ID_MAX_LENGTH, type NotifyItem } from '@homelab/contracts';
import type { OutboxMessage } from './outbox';
import { buttonData, render, stateLine } from './render';

const SINCE = '2026-11-26T14:02:00.000Z';
const item = (service: string, over: Partial<NotifyItem> = {}): NotifyItem => ({
  key: `container-restart-piha-${service}@${SINCE}`,
  kind: 'action',
  node: 'piha',
  state: 'pending',
  since: SINCE,
  id: `container-restart-piha-${service}`,
  type: 'container_restart',
  risk: 'low',
  service,
  summary: `piha/${service}: containers not running`,
  why: 'unhealthy_service (containers_not_running) since 2026-11-26 14:02 UTC',
  ...over,
});
const message = (...items: NotifyItem[]): OutboxMessage => ({
  key: `piha|${items[0]!.key}`,
  node: 'piha',
  openedAt: SINCE,
  items: Object.fromEntries(items.map((i) => [i.key, i])),
  delivered: {},
});

describe('render', () => {
  it.each<[string, Partial<NotifyItem>, string]>([
    ['pending', {}, 'waiting for approval'],
    ['approved', { state: 'approved', decidedBy: '@alice (tg 7)', decidedVia: 'telegram' }, 'approved by @alice (tg 7) via telegram'],
    ['running', { state: 'running', decidedBy: 'admin', decidedVia: 'api' }, 'running (approved by admin via api)'],
    ['completed', { state: 'completed', decidedBy: 'admin', decidedVia: 'api' }, 'completed (approved by admin via api)'],
    ['failed', { state: 'failed', error: 'docker_failed: no such container' }, 'failed: docker_failed: no such container'],
    ['rejected', { state: 'rejected', decidedBy: 'bob', decidedVia: 'cli' }, 'rejected by bob via cli'],
    ['healed by itself', { state: 'cancelled', cancelReason: 'drift_resolved_auto' }, 'recovered by itself (action cancelled)'],
    [
      'removed from desired state',
      { state: 'cancelled', cancelReason: 'service_removed_from_desired_state' },
      'cancelled (service_removed_from_desired_state)',
    ],
    ['node offline', { kind: 'node', state: 'offline' }, 'offline since 2026-11-26 14:02 UTC'],
    ['node back', { kind: 'node', state: 'online' }, 'back online'],
  ])('says where an item stands: %s', (_n, over, line) => {
    expect(stateLine(item('web', over))).toBe(line);
  });

  it('lists every problem of a coalesced message with one button row per pending action', () => {
    const r = render(message(item('a'), item('b', { state: 'approved' }), item('c')), [], 'http://hub.lan:18180/');
    expect(r.title).toBe('piha: 3 problems, 2 waiting for approval');
    expect(r.text.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(3);
    expect(r.text.endsWith('\nhttp://hub.lan:18180/actions')).toBe(true);
    expect(r.buttons.map((row) => row.map((b) => b.text))).toEqual([
      ['Approve a', 'Reject a'],
      ['Approve c', 'Reject c'],
    ]);
  });

  it('keeps button data within the 64 bytes Telegram allows, even for the longest action id', () => {
    const id = 'x'.repeat(ACTION_ID_MAX_LENGTH);
    expect(Buffer.byteLength(buttonData('a', `${id}@${SINCE}`))).toBeLessThanOrEqual(64);
    expect(buttonData('a', `${id}@${SINCE}`)).not.toBe(buttonData('a', `${id}@2026-11-26T14:03:00.000Z`));
  });

  it('has no buttons once nothing waits for a decision', () => {
    expect(render(message(item('a', { state: 'completed' })), [], undefined).buttons).toEqual([]);
  });
});
