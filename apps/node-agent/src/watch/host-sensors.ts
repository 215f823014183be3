import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// The host's CPU temperature and available memory, read from the kernel's files (docs/host-health.md):
// the same places and the same choice among them as the systeminformation package the agent used
// before, without its shell commands and without loading its modules (about 2.4 MB of resident
// memory, docs/benchmarks.md "Agent: detection latency and footprint").

/** One thermal zone of /sys/class/thermal: its type and its temperature in millidegrees. */
export interface ThermalZone {
  type: string;
  milliC: number;
}

/** One temperature input of /sys/class/hwmon: the chip's name, the input's label (null when the chip gives none), millidegrees. */
export interface HwmonTemp {
  chip: string;
  label: string | null;
  milliC: number;
}

const tenths = (milliC: number) => Math.round(milliC / 100) / 10;
const includesAny = (s: string, words: string[]) => words.some((w) => s.includes(w));

/** First choice: the labelled hwmon inputs — AMD's Tctl, else a package or physical sensor, else the mean of the cores. */
function fromLabelled(temps: HwmonTemp[]): number | null {
  let labelled = temps.filter((t) => t.label !== null);
  const tdie = labelled.findIndex((t) => t.label!.toLowerCase().includes('tdie'));
  if (tdie > 0) labelled = labelled.slice(tdie);
  let main: number | null = null;
  const cores: number[] = [];
  for (const t of labelled) {
    const label = t.label!.toLowerCase();
    if (label === 'tctl') main = tenths(t.milliC);
    if (label.startsWith('core')) cores.push(tenths(t.milliC));
    else if (main === null && (includesAny(label, ['package', 'physical']) || label === 'tccd1')) main = tenths(t.milliC);
  }
  if (main === null && cores.length > 0) main = Math.round(cores.reduce((a, b) => a + b, 0) / cores.length);
  return main;
}

/** What `sensors` would show, by chip: cores, a package sensor, a CPU thermal chip's first input, AMD's Tdie. */
function fromChips(temps: HwmonTemp[]): number | null {
  let main: number | null = null;
  let tdie: number | null = null;
  let cpuThermal: number | null = null;
  const cores: number[] = [];
  for (const t of temps) {
    const chip = t.chip.toLowerCase();
    const label = (t.label ?? 'temp').toUpperCase();
    const c = t.milliC / 1000;
    if (includesAny(label, ['PHYSICAL', 'PACKAGE']) || (chip.startsWith('k10temp') && label.includes('TDIE'))) main = c;
    if (label.includes('CORE ')) cores.push(c);
    if (label.includes('TDIE')) tdie ??= c;
    if ((chip.startsWith('cpu') || chip.startsWith('soc_thermal')) && label.includes('TEMP')) cpuThermal ??= c;
  }
  if (cores.length > 0) return Math.round(cores.reduce((a, b) => a + b, 0) / cores.length);
  return main ?? cpuThermal ?? tdie;
}

/**
 * The CPU temperature in °C from the kernel's sensors, or null when there is none: the labelled
 * hwmon inputs first, then the first thermal zone whose type names the CPU (a Raspberry Pi's
 * `cpu-thermal`), then the hwmon chips as `sensors` groups them, then thermal zone 0.
 */
export function cpuTemperatureOf(zones: ThermalZone[], hwmon: HwmonTemp[]): number | null {
  const labelled = fromLabelled(hwmon);
  if (labelled !== null) return labelled;
  const cpuZone = zones.find((z) => z.type.toLowerCase().includes('cpu'));
  if (cpuZone) return tenths(cpuZone.milliC);
  return fromChips(hwmon) ?? (zones[0] ? zones[0].milliC / 1000 : null);
}

/** Total and available memory in bytes from /proc/meminfo's text (MemAvailable; kernels before 3.14: free + buffers + cache + slab). */
export function memoryOfMeminfo(text: string): { total: number; available: number } | null {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb('MemTotal');
  if (!total) return null;
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0) + (kb('Slab') ?? 0);
  return { total, available };
}

/** `vcgencmd measure_temp`'s answer, `temp=48.3'C`. */
export function parseMeasureTemp(text: string): number | null {
  const m = /temp=(-?\d+(?:\.\d+)?)/.exec(text);
  return m ? Number(m[1]) : null;
}

const readTrimmed = (file: string) => fs.readFile(file, 'utf8').then((s) => s.trim());
const millis = async (file: string) => {
  const v = parseInt(await readTrimmed(file), 10);
  if (!Number.isFinite(v)) throw new Error(`${file}: not a temperature`);
  return v;
};
/** Entries of `dir` matching `re`, in the order of a shell's glob; none when `dir` is absent. */
const listed = async (dir: string, re: RegExp) => (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();

/** Every thermal zone with a readable type and temperature. */
export async function readThermalZones(root = '/sys/class/thermal'): Promise<ThermalZone[]> {
  const zones: ThermalZone[] = [];
  for (const z of await listed(root, /^thermal_zone\d+$/)) {
    const zone = await Promise.all([readTrimmed(path.join(root, z, 'type')), millis(path.join(root, z, 'temp'))]).catch(() => null);
    if (zone) zones.push({ type: zone[0], milliC: zone[1] });
  }
  return zones;
}

/** Every readable temperature input of every hwmon chip (an input the driver cannot read now is skipped). */
export async function readHwmonTemps(root = '/sys/class/hwmon'): Promise<HwmonTemp[]> {
  const temps: HwmonTemp[] = [];
  for (const h of await listed(root, /^hwmon\d+$/)) {
    const dir = path.join(root, h);
    const chip = await readTrimmed(path.join(dir, 'name')).catch(() => '');
    for (const input of await listed(dir, /^temp\d+_input$/)) {
      const milliC = await millis(path.join(dir, input)).catch(() => null);
      if (milliC === null) continue;
      const label = await readTrimmed(path.join(dir, input.replace('_input', '_label'))).catch(() => null);
      temps.push({ chip, label, milliC });
    }
  }
  return temps;
}

/** The CPU temperature of this host, or null: the kernel's files, else the Raspberry Pi firmware's `vcgencmd`. */
export async function readCpuTemperature(timeoutMs: number, roots = { thermal: '/sys/class/thermal', hwmon: '/sys/class/hwmon' }): Promise<number | null> {
  if (os.platform() !== 'linux') return null;
  const fromFiles = cpuTemperatureOf(await readThermalZones(roots.thermal), await readHwmonTemps(roots.hwmon));
  if (fromFiles !== null) return fromFiles;
  return new Promise((resolve) => {
    execFile('/opt/vc/bin/vcgencmd', ['measure_temp'], { timeout: timeoutMs }, (err, stdout) => resolve(err ? null : parseMeasureTemp(stdout)));
  });
}

/** Total and available memory from /proc/meminfo, or null where there is none (not Linux). */
export async function readMemory(file = '/proc/meminfo'): Promise<{ total: number; available: number } | null> {
  return memoryOfMeminfo(await fs.readFile(file, 'utf8').catch(() => ''));
}
