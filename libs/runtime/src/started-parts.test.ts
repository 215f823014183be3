import { describe, expect, it } from 'vitest';
import { createLogger } from '@homelab/logging';
import { gate, isSettled } from '@homelab/testkit';
import { StartedParts } from './started-parts';

const log = createLogger('test', { level: 'silent' });

describe('StartedParts', () => {
  it('stops parts newest first, each after the previous one finished, and goes on past a failing one', async () => {
    const parts = new StartedParts('hub');
    const order: string[] = [];
    const g = gate();
    parts.add('lock', () => void order.push('lock'));
    parts.add('broker', () => {
      order.push('broker');
      throw new Error('already closed');
    });
    parts.add('loop', async () => {
      await g.opened;
      order.push('loop');
    });
    const stopped = parts.closeAll(log);
    expect(await isSettled(stopped)).toBe(false);
    expect(order).toEqual([]);
    g.open();
    await stopped;
    expect(order).toEqual(['loop', 'broker', 'lock']);
    expect(parts.closeAll(log)).toBe(stopped);
    expect(() => parts.add('late', () => undefined)).toThrow(/while the hub is stopping/);
  });
});
