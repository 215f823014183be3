import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeHeartbeatEvent } from '@homelab/contracts';
import { HostHealthSampler, hostHealthOf, parseThrottled, type HostHealthSources } from './host-health';
import { createHostStats, HOST_SAMPLE_DELAY_MS } from './host-stats';

describe('parseThrottled', () => {
  it.each([
    { text: 'throttled=0x0\n', want: 0 },
    { text: 'throttled=0x50005\n', want: 0x50005 },
    { text: '50005\n', want: 0x50005 },
    { text: '0\n', want: 0 },
    { text: 'e0008', want: 0xe0008 },
    { text: '', want: null },
    { text: 'VCHI initialization failed', want: null },
    { text: 'throttled=0x123456789', want: null },
  ])('$text', ({ text, want }) => expect(parseThrottled(text)).toBe(want));
});

describe('hostHealthOf', () => {
  const GiB = 2 ** 30;
  it.each([
    { name: 'nothing reported', args: [null, null, null] as const, want: {} },
    {
      name: 'a Raspberry Pi',
      args: [61.34, { total: 4 * GiB, available: GiB }, 0x50000] as const,
      want: { cpuTempC: 61.3, memUsedPercent: 75, memAvailableMb: 1024, throttled: 0x50000 },
    },
    { name: 'a VM: memory only', args: [null, { total: 8 * GiB, available: 6 * GiB }, null] as const, want: { memUsedPercent: 25, memAvailableMb: 6144 } },
    { name: 'a nonsense temperature is dropped', args: [-273, null, null] as const, want: {} },
    { name: 'available above total is dropped', args: [null, { total: GiB, available: 2 * GiB }, null] as const, want: {} },
    { name: 'a zero total is dropped', args: [null, { total: 0, available: 0 }, null] as const, want: {} },
  ])('$name', ({ args, want }) => {
    const h = hostHealthOf(args[0], args[1], args[2]);
    expect(h).toEqual(want);
    // Whatever it gives fits the heartbeat contract.
    expect(NodeHeartbeatEvent.shape.data.safeParse(h).success).toBe(true);
  });
});

describe('HostHealthSampler', () => {
  afterEach(() => vi.useRealTimers());
  const never = <T>() => new Promise<T>(() => {});
  const sources = (over: Partial<HostHealthSources> = {}): HostHealthSources => ({
    temperature: async () => 55,
    memory: async () => ({ total: 100, available: 40 }),
    throttled: async () => 0,
    ...over,
  });

  it('has nothing before its first sample, then every figure the platform reports', async () => {
    const s = new HostHealthSampler(sources(), 1000);
    expect(s.latest()).toEqual({});
    await s.refresh();
    expect(s.latest()).toMatchObject({ cpuTempC: 55, memUsedPercent: 60, throttled: 0 });
  });

  it('leaves out a source that does not answer within the timeout, and keeps the others', async () => {
    vi.useFakeTimers();
    const s = new HostHealthSampler(sources({ temperature: never }), 2000);
    const done = s.refresh();
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(s.latest()).toEqual({ memUsedPercent: 60, memAvailableMb: 0, throttled: 0 });
  });

  it('does not call a source again while its earlier call still hangs', async () => {
    vi.useFakeTimers();
    const temperature = vi.fn(never<number>);
    const s = new HostHealthSampler(sources({ temperature }), 100);
    for (let i = 0; i < 3; i++) {
      const done = s.refresh();
      await vi.advanceTimersByTimeAsync(100);
      await done;
    }
    expect(temperature).toHaveBeenCalledTimes(1);
  });

  it('stops asking a source that reports nothing on this platform', async () => {
    const throttled = vi.fn(async () => null);
    const s = new HostHealthSampler(sources({ throttled }), 1000);
    await s.refresh();
    await s.refresh();
    expect(throttled).toHaveBeenCalledTimes(1);
    expect(s.latest()).not.toHaveProperty('throttled');
  });

  it('treats a failing source as not reported this time, never as an error', async () => {
    const temperature = vi.fn(async () => {
      throw new Error('EACCES');
    });
    const s = new HostHealthSampler(sources({ temperature }), 1000);
    await expect(s.refresh()).resolves.toBeUndefined();
    await s.refresh();
    expect(temperature).toHaveBeenCalledTimes(2);
    expect(s.latest()).not.toHaveProperty('cpuTempC');
  });

  it('joins a refresh already running instead of starting another', async () => {
    const memory = vi.fn(async () => ({ total: 1, available: 1 }));
    const s = new HostHealthSampler(sources({ memory }), 1000);
    await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect(memory).toHaveBeenCalledTimes(1);
  });
});

describe('heartbeat host stats with a sampler', () => {
  afterEach(() => vi.useRealTimers());

  it('are read without waiting for a hanging source, and carry the previous sample', async () => {
    vi.useFakeTimers();
    let hang = false;
    const s = new HostHealthSampler(
      {
        temperature: () => (hang ? new Promise<number>(() => {}) : Promise.resolve(70)),
        memory: async () => null,
        throttled: async () => null,
      },
      2000,
    );
    const read = createHostStats(s);
    await vi.advanceTimersByTimeAsync(0);
    hang = true;
    // Synchronous: a hanging sample cannot hold the heartbeat back.
    const first = read();
    expect(first.cpuTempC).toBe(70);
    expect(first.agentRssMb).toBeGreaterThan(0);
    // The next sample starts a second after the heartbeat, and its hanging source is dropped after 2 s.
    await vi.advanceTimersByTimeAsync(HOST_SAMPLE_DELAY_MS + 1999);
    expect(read().cpuTempC).toBe(70);
    await vi.advanceTimersByTimeAsync(1);
    expect(read().cpuTempC).toBeUndefined();
  });

  it('start the next sample a second after the heartbeat, once, however often they are read', async () => {
    vi.useFakeTimers();
    const memory = vi.fn(async () => ({ total: 100, available: 50 }));
    const s = new HostHealthSampler({ temperature: async () => null, memory, throttled: async () => null }, 2000);
    const read = createHostStats(s);
    await vi.advanceTimersByTimeAsync(0);
    expect(memory).toHaveBeenCalledTimes(1); // the sample at start
    read();
    read();
    await vi.advanceTimersByTimeAsync(HOST_SAMPLE_DELAY_MS - 1);
    expect(memory).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(memory).toHaveBeenCalledTimes(2);
  });
});
