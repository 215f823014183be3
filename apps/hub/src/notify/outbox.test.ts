import { describe, expect, it } from 'vitest';
import type { NotifyItem } from '@homelab/contracts';
import { advance, emptyOutbox, Outbox, pendingFor, type Outbox as OutboxT } from './outbox';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const GRACE = 60_000;
const ALL = ['telegram', 'webhook'] as const;

function item(key: string, state: NotifyItem['state'], sinceS = 0, node = 'piha'): NotifyItem {
  return { key, kind: 'action', node, state, since: at(sinceS), id: key.split('@')[0], type: 'container_restart', risk: 'low', service: key };
}

/** Runs `advance` over a list of (seconds, current items) steps from an empty outbox. */
function run(steps: [number, NotifyItem[]][], start: OutboxT = emptyOutbox()): OutboxT {
  let o = start;
  for (const [s, cur] of steps) o = advance(o, cur, T0 + s * 1000, GRACE, ALL);
  return o;
}

const messageItems = (o: OutboxT) => Object.values(o.messages).map((m) => Object.keys(m.items).sort());

describe('outbox advance', () => {
  it.each<[string, [number, NotifyItem[]][], string[][]]>([
    ['a pending action inside its grace period sends nothing yet', [[10, [item('a', 'pending')]]], []],
    ['a pending action past its grace period opens one message', [[61, [item('a', 'pending')]]], [['a']]],
    [
      'a blip that healed within the grace period never opens a message',
      [
        [10, [item('a', 'pending')]],
        [61, [item('a', 'cancelled')]],
      ],
      [],
    ],
    [
      'a failure inside the grace period is told at once',
      [
        [5, [item('a', 'running')]],
        [20, [item('a', 'failed')]],
      ],
      [['a']],
    ],
    ['an action first seen already ended is not told', [[61, [item('a', 'completed')]]], []],
    [
      'services of one node failing together make one message, not one each',
      [[61, [item('a', 'pending', 0), item('b', 'pending', 30), item('c', 'pending', 59), item('x', 'pending', 50, 'other')]]],
      [['a', 'b', 'c']],
    ],
    ['each node has its own message', [[61, [item('a', 'pending', 0), item('x', 'pending', 0, 'other')]]], [['a'], ['x']]],
  ])('%s', (_name, steps, expected) => {
    expect(messageItems(run(steps)).sort()).toEqual(expected);
  });

  it('keeps a message while any notifier has not been told its final state, then drops it', () => {
    let o = run([[61, [item('a', 'pending')]]]);
    const m = Object.values(o.messages)[0]!;
    m.delivered.telegram = { states: { a: 'pending' }, refs: [], count: 1 };
    m.delivered.webhook = { states: { a: 'pending' }, refs: [], count: 1 };
    o = advance(o, [item('a', 'completed')], T0 + 70_000, GRACE, ALL);
    expect(pendingFor(Object.values(o.messages)[0]!, 'telegram')).toEqual({ first: false, changed: ['a'] });
    const m2 = Object.values(o.messages)[0]!;
    m2.delivered.telegram = { states: { a: 'completed' }, refs: [], count: 2 };
    o = advance(o, [item('a', 'completed')], T0 + 71_000, GRACE, ALL);
    expect(Object.keys(o.messages)).toHaveLength(1);
    Object.values(o.messages)[0]!.delivered.webhook = { states: { a: 'completed' }, refs: [], count: 2 };
    o = advance(o, [item('a', 'completed')], T0 + 72_000, GRACE, ALL);
    expect(o.messages).toEqual({});
  });

  it('is the same after a round trip through its file (a restart resumes, it does not open a second message)', () => {
    const o = run([[61, [item('a', 'pending')]]]);
    const reread = Outbox.parse(JSON.parse(JSON.stringify(o)));
    const again = advance(reread, [item('a', 'pending')], T0 + 65_000, GRACE, ALL);
    expect(Object.keys(again.messages)).toEqual(Object.keys(o.messages));
  });

  it('counts the grace period from when the problem began, so a restart does not start it again', () => {
    // The hub was down during the whole grace period: the action is due on the first cycle after.
    expect(messageItems(run([[300, [item('a', 'pending', 0)]]]))).toEqual([['a']]);
  });
});
