import { describe, expect, it } from 'vitest';
import { CrashLoopDetector } from './crash-loop';

const obs = (restartCount: number, state = 'running') => [{ name: 'z2m', state, restartCount }];

describe('CrashLoopDetector', () => {
  it('sees no loop at first sight, whatever the count', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    expect(d.observe(obs(40), 0).size).toBe(0);
  });

  it('reports a burst of 3 policy restarts within the window, even while the container is up between them', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    d.observe(obs(0), 0);
    expect(d.observe(obs(1), 1_000).size).toBe(0);
    expect(d.observe(obs(2), 2_000).size).toBe(0);
    expect(d.observe(obs(3), 3_000).get('z2m')).toBe(3);
  });

  it('counts several restarts seen in one scan', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    d.observe(obs(0), 0);
    expect(d.observe(obs(5, 'exited'), 500).has('z2m')).toBe(true);
  });

  it('clears once the restarts age out of the window', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    d.observe(obs(0), 0);
    d.observe(obs(3), 1_000);
    expect(d.observe(obs(3), 60_999).size).toBe(1);
    expect(d.observe(obs(3), 61_000).size).toBe(0);
  });

  it('restarts spread wider than the window are no loop', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    d.observe(obs(0), 0);
    d.observe(obs(1), 0);
    d.observe(obs(2), 40_000);
    expect(d.observe(obs(3), 80_000).size).toBe(0);
  });

  it('starts over when a container is recreated (count drops)', () => {
    const d = new CrashLoopDetector({ restarts: 3, windowMs: 60_000 });
    d.observe(obs(0), 0);
    d.observe(obs(2), 1_000);
    expect(d.observe(obs(0), 2_000).size).toBe(0);
    expect(d.observe(obs(1), 3_000).size).toBe(0);
  });
});
