import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { readCpuTemperature, readMemory } from './host-sensors';

/** Host health a heartbeat carries (NodeHeartbeatEvent); a field the platform does not report is absent. */
export interface HostHealth {
  cpuTempC?: number;
  memUsedPercent?: number;
  memAvailableMb?: number;
  throttled?: number;
}

/** Where each figure comes from; each answers null when the platform does not report it. */
export interface HostHealthSources {
  temperature: () => Promise<number | null>;
  memory: () => Promise<{ total: number; available: number } | null>;
  throttled: () => Promise<number | null>;
}

/** The Raspberry Pi firmware's throttling bits as its sysfs file or `vcgencmd get_throttled` print them (hex). */
export function parseThrottled(text: string): number | null {
  const m = /^\s*(?:throttled=)?(?:0x)?([0-9a-f]{1,8})\s*$/i.exec(text);
  return m ? parseInt(m[1]!, 16) : null;
}

/** Host figures from the sources' answers: rounded, out-of-range values dropped, absent ones omitted. */
export function hostHealthOf(
  temp: number | null | undefined,
  memory: { total: number; available: number } | null | undefined,
  throttled: number | null | undefined,
): HostHealth {
  const out: HostHealth = {};
  if (typeof temp === 'number' && Number.isFinite(temp) && temp > -100 && temp < 250) out.cpuTempC = Math.round(temp * 10) / 10;
  if (memory && memory.total > 0 && memory.available >= 0 && memory.available <= memory.total) {
    out.memUsedPercent = Math.round((1 - memory.available / memory.total) * 1000) / 10;
    out.memAvailableMb = Math.round((memory.available / 2 ** 20) * 10) / 10;
  }
  if (typeof throttled === 'number' && Number.isSafeInteger(throttled) && throttled >= 0 && throttled <= 0xffffffff) out.throttled = throttled;
  return out;
}

/** The Raspberry Pi firmware driver's file (present on Raspberry Pi OS kernels). */
const THROTTLED_FILE = '/sys/devices/platform/soc/soc:firmware/get_throttled';

/** Absent file and absent vcgencmd both answer null: not a Raspberry Pi, nothing to report. */
async function readThrottled(timeoutMs: number): Promise<number | null> {
  try {
    return parseThrottled(await fs.readFile(THROTTLED_FILE, 'utf8'));
  } catch {
    return new Promise((resolve) => {
      execFile('vcgencmd', ['get_throttled'], { timeout: timeoutMs }, (err, stdout) => resolve(err ? null : parseThrottled(stdout)));
    });
  }
}

/** The kernel's sensors and /proc/meminfo for temperature and memory (host-sensors.ts), the firmware for throttling. */
export function systemHostHealthSources(timeoutMs: number): HostHealthSources {
  return {
    temperature: () => readCpuTemperature(timeoutMs),
    memory: () => readMemory(),
    throttled: () => readThrottled(timeoutMs),
  };
}

type SourceName = keyof HostHealthSources;
const TIMED_OUT = Symbol('timed out');

/**
 * Samples host health off the heartbeat's path (docs/host-health.md): the
 * heartbeat reads `latest()` (synchronous, never waits) and then asks for a
 * refresh a second later (`refreshLater`), whose figures the next heartbeat carries. Each source is bounded
 * by `timeoutMs`; one that has not answered by then is left out of that sample,
 * and is not asked again until its pending call settles (no pile-up of slow
 * calls). A source that answers "not reported here" (null) is not asked again:
 * without a sensor under /sys the temperature runs `vcgencmd`, and hardware does
 * not gain a sensor while the agent runs.
 */
export class HostHealthSampler {
  private current: HostHealth = {};
  private refreshing: Promise<void> | null = null;
  private readonly pending = new Set<SourceName>();
  private readonly absent = new Set<SourceName>();
  private scheduled: NodeJS.Timeout | null = null;

  constructor(
    private readonly sources: HostHealthSources,
    private readonly timeoutMs: number,
  ) {}

  latest(): HostHealth {
    return this.current;
  }

  /**
   * A refresh `delayMs` from now (one at a time): after a heartbeat, so that it is published
   * before the sample's file reads (and, on a Raspberry Pi without the firmware's file, `vcgencmd`) run.
   */
  refreshLater(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = null;
      void this.refresh();
    }, delayMs);
    this.scheduled.unref();
  }

  /** One sample of every source; a refresh already running is joined, not doubled. Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= this.sample().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async sample(): Promise<void> {
    const [temp, memory, throttled] = await Promise.all([this.ask('temperature'), this.ask('memory'), this.ask('throttled')]);
    this.current = hostHealthOf(temp, memory, throttled);
  }

  private async ask<K extends SourceName>(name: K): Promise<Awaited<ReturnType<HostHealthSources[K]>> | undefined> {
    if (this.absent.has(name) || this.pending.has(name)) return undefined;
    this.pending.add(name);
    const call = (async () => this.sources[name]())()
      .then((v) => {
        if (v === null) this.absent.add(name);
        return v;
      })
      .catch(() => undefined)
      .finally(() => this.pending.delete(name));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs);
      timer.unref();
    });
    const v = await Promise.race([call, timeout]);
    clearTimeout(timer);
    return v === TIMED_OUT || v === null ? undefined : (v as Awaited<ReturnType<HostHealthSources[K]>>);
  }
}
