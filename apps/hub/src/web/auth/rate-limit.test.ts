import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './rate-limit';

describe('the failed-login limiter under a flood of new keys', () => {
  it('keeps a locked key when the map passes its capacity, evicting the oldest unlocked keys instead', () => {
    let now = 0;
    const l = new LoginLimiter(5, 60_000, () => now, 100);
    for (let i = 0; i < 5; i++) l.fail(['user:admin']);
    expect(l.retryAfter(['user:admin'])).toBe(60);
    for (let i = 0; i < 1000; i++) {
      now += 1;
      l.fail([`ip:10.0.${i >> 8}.${i & 255}`, `user:guess-${i}`]);
    }
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.retryAfter(['user:admin'])).toBeGreaterThan(0);
    // The most recent keys stay, the oldest unlocked ones went.
    expect(l.retryAfter(['user:guess-999'])).toBe(0);
    l.fail(['user:guess-999']);
    expect(l.size).toBeLessThanOrEqual(100);
  });

  it('drops the least recently failed locked key only when every key is locked', () => {
    let now = 0;
    const l = new LoginLimiter(1, 60_000, () => now, 3);
    for (const k of ['a', 'b', 'c', 'd']) {
      now += 1;
      l.fail([k]);
    }
    expect(l.size).toBe(3);
    expect(l.retryAfter(['a'])).toBe(0);
    expect(['b', 'c', 'd'].map((k) => l.retryAfter([k]) > 0)).toEqual([true, true, true]);
  });

  it('evicts an expired lock like an unlocked key', () => {
    let now = 0;
    const l = new LoginLimiter(1, 1000, () => now, 2);
    l.fail(['old']);
    now = 5000;
    l.fail(['x']);
    l.fail(['y']);
    expect(l.size).toBe(2);
    expect(l.retryAfter(['x'])).toBeGreaterThan(0);
    expect(l.retryAfter(['y'])).toBeGreaterThan(0);
  });
});
