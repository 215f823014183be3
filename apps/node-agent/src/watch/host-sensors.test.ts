import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cpuTemperatureOf,
  memoryOfMeminfo,
  parseMeasureTemp,
  readCpuTemperature,
  readHwmonTemps,
  readMemory,
  readThermalZones,
  type HwmonTemp,
  type ThermalZone,
} from './host-sensors';

const hw = (chip: string, label: string | null, milliC: number): HwmonTemp => ({ chip, label, milliC });
const zone = (type: string, milliC: number): ThermalZone => ({ type, milliC });

describe('cpuTemperatureOf', () => {
  it.each<[string, ThermalZone[], HwmonTemp[], number | null]>([
    ['nothing reported (a VM)', [], [], null],
    [
      'an Intel package sensor before its cores',
      [zone('x86_pkg_temp', 60000)],
      [hw('coretemp', 'Package id 0', 61250), hw('coretemp', 'Core 0', 58000), hw('coretemp', 'Core 1', 62000)],
      61.3,
    ],
    ['the mean of the cores, whole degrees, without a package sensor', [], [hw('coretemp', 'Core 0', 58000), hw('coretemp', 'Core 1', 61000)], 60],
    ['AMD Tctl', [], [hw('k10temp', 'Tctl', 70125), hw('k10temp', 'Tccd1', 66000)], 70.1],
    ['AMD Tccd1 without Tctl', [], [hw('k10temp', 'Tccd1', 66040)], 66],
    [
      'inputs before Tdie are ignored',
      [],
      [hw('nvme', 'Composite', 40000), hw('acpi', 'Package', 99000), hw('k10temp', 'Tdie', 50000), hw('k10temp', 'Tccd1', 48000)],
      48,
    ],
    ['a Raspberry Pi: the cpu-thermal zone', [zone('cpu-thermal', 48312)], [hw('cpu_thermal', null, 48312)], 48.3],
    [
      'the CPU zone is preferred to a labelled NVMe sensor that is no CPU',
      [zone('acpitz', 30000), zone('cpu-thermal', 51000)],
      [hw('nvme', 'Composite', 40000)],
      51,
    ],
    ['an unlabelled input of a CPU thermal chip', [zone('acpitz', 30000)], [hw('cpu_thermal', null, 47500)], 47.5],
    ['Tdie when nothing else', [], [hw('k10temp', null, 1000), hw('other', 'Tdie', 45000)], 45],
    ['thermal zone 0 when nothing names the CPU', [zone('acpitz', 27800), zone('pch_skylake', 40000)], [], 27.8],
  ])('%s', (_name, zones, temps, expected) => {
    expect(cpuTemperatureOf(zones, temps)).toBe(expected);
  });
});

describe('memoryOfMeminfo', () => {
  it('takes MemTotal and MemAvailable, in bytes', () => {
    expect(memoryOfMeminfo('MemTotal:        4000 kB\nMemFree:  1000 kB\nMemAvailable:   2500 kB\nBuffers: 10 kB\n')).toEqual({
      total: 4000 * 1024,
      available: 2500 * 1024,
    });
  });
  it('adds free, buffers, cache and slab on kernels without MemAvailable', () => {
    expect(memoryOfMeminfo('MemTotal: 4000 kB\nMemFree: 1000 kB\nBuffers: 100 kB\nCached: 500 kB\nSwapCached: 7 kB\nSlab: 50 kB\n')).toEqual({
      total: 4000 * 1024,
      available: 1650 * 1024,
    });
  });
  it('reports nothing without a total', () => {
    expect(memoryOfMeminfo('')).toBeNull();
  });
});

describe('parseMeasureTemp', () => {
  it.each([
    ["temp=48.3'C\n", 48.3],
    ['temp=-2.0', -2],
    ['error', null],
  ])('%j → %j', (text, expected) => expect(parseMeasureTemp(text)).toBe(expected));
});

describe('reading the kernel files', () => {
  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };

  it('reads thermal zones and hwmon inputs, skipping what cannot be read', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-sensors-'));
    write('thermal/thermal_zone0/type', 'acpitz\n');
    write('thermal/thermal_zone0/temp', '27800\n');
    write('thermal/thermal_zone1/type', 'cpu-thermal\n'); // no temp file: skipped
    write('thermal/cooling_device0/type', 'fan\n');
    write('hwmon/hwmon0/name', 'coretemp\n');
    write('hwmon/hwmon0/temp1_input', '61000\n');
    write('hwmon/hwmon0/temp1_label', 'Package id 0\n');
    write('hwmon/hwmon0/temp2_input', '58000\n');
    write('hwmon/hwmon1/name', 'nvme\n');
    write('hwmon/hwmon1/temp1_input', 'garbage\n');
    expect(await readThermalZones(path.join(dir, 'thermal'))).toEqual([zone('acpitz', 27800)]);
    expect(await readHwmonTemps(path.join(dir, 'hwmon'))).toEqual([hw('coretemp', 'Package id 0', 61000), hw('coretemp', null, 58000)]);
    if (os.platform() === 'linux') expect(await readCpuTemperature(1000, { thermal: path.join(dir, 'thermal'), hwmon: path.join(dir, 'hwmon') })).toBe(61);
  });

  it('answers nothing, never an error, where the directories or the files are absent', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-sensors-'));
    expect(await readThermalZones(path.join(dir, 'none'))).toEqual([]);
    expect(await readHwmonTemps(path.join(dir, 'none'))).toEqual([]);
    expect(await readMemory(path.join(dir, 'meminfo'))).toBeNull();
    write('meminfo', 'MemTotal: 2048 kB\nMemAvailable: 1024 kB\n');
    expect(await readMemory(path.join(dir, 'meminfo'))).toEqual({ total: 2048 * 1024, available: 1024 * 1024 });
  });
});
