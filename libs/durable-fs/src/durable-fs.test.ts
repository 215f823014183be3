import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fsAtomicWriteSteps, mkdirDurable, parseJsonText, readJsonFile, replaceFiles, writeFileAtomic, writeFilesAtomic, type AtomicWriteSteps } from './index';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'durable-fs-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('durable fs', () => {
  it('replaces a file and leaves no temp file behind', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await fs.readFile(file, 'utf8')).toBe('two');
    expect(await fs.readdir(dir)).toEqual(['a.json']);
  });

  it('creates the folder and a private file when asked', async () => {
    const file = path.join(dir, 'deep', 'er', 'secret.json');
    await writeFileAtomic(file, 'x', { mode: 0o600, mkdirMode: 0o700 });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  });

  it('keeps the old content when the write fails, and cleans its temp file', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, 'old');
    await fs.mkdir(path.join(dir, 'blocker'));
    await expect(writeFileAtomic(path.join(dir, 'blocker'), 'new')).rejects.toThrow();
    expect(await fs.readFile(file, 'utf8')).toBe('old');
    expect((await fs.readdir(dir)).sort()).toEqual(['a.json', 'blocker']);
  });

  it('writes several files of one folder', async () => {
    await writeFilesAtomic(path.join(dir, 'w'), [
      { name: 'x', data: '1' },
      { name: 'y', data: '2' },
    ]);
    expect((await fs.readdir(path.join(dir, 'w'))).sort()).toEqual(['x', 'y']);
  });

  it('replaces derived files whole, leaving no temp file, and keeps the old ones when a write fails', async () => {
    const w = path.join(dir, 'world');
    await replaceFiles(w, [
      { name: 'x', data: '1' },
      { name: 'y', data: '2' },
    ]);
    await replaceFiles(w, [
      { name: 'x', data: 'one' },
      { name: 'y', data: 'two' },
    ]);
    expect([await fs.readFile(path.join(w, 'x'), 'utf8'), await fs.readFile(path.join(w, 'y'), 'utf8')]).toEqual(['one', 'two']);
    // The second temp file cannot be written: nothing is renamed, no temp file stays.
    await expect(
      replaceFiles(w, [
        { name: 'x', data: 'three' },
        { name: 'missing/y', data: 'no' },
      ]),
    ).rejects.toThrow();
    expect(await fs.readFile(path.join(w, 'x'), 'utf8')).toBe('one');
    expect((await fs.readdir(w)).sort()).toEqual(['x', 'y']);
  });

  it('says whether mkdir created anything', async () => {
    expect(await mkdirDurable(path.join(dir, 'n', 'm'))).toBe(true);
    expect(await mkdirDurable(path.join(dir, 'n', 'm'))).toBe(false);
  });

  it('tells a missing, a valid and a corrupt JSON file apart', async () => {
    const schema = z.object({ n: z.number() });
    const file = path.join(dir, 'f.json');
    expect(await readJsonFile(file, schema)).toEqual({ kind: 'missing' });
    await fs.writeFile(file, '{"n":1}');
    expect(await readJsonFile(file, schema)).toEqual({ kind: 'ok', value: { n: 1 } });
    await fs.writeFile(file, '{"n":"x"}');
    expect(await readJsonFile(file, schema)).toMatchObject({ kind: 'corrupt' });
    await fs.writeFile(file, '{');
    expect((await readJsonFile(file, schema)).kind).toBe('corrupt');
  });

  it.each([
    ['{"n":1}', { kind: 'ok', value: { n: 1 } }],
    ['', { kind: 'corrupt', problem: 'empty file' }],
    ['{"secret":"hunter2"', { kind: 'corrupt', problem: 'not JSON' }],
    ['{"n":"x"}', { kind: 'corrupt', problem: expect.stringContaining('expected number') }],
  ])('parses %j into one result, naming the problem without quoting the text', (text, expected) => {
    expect(parseJsonText(text, z.object({ n: z.number() }))).toEqual(expected);
  });

  it('writes through injected steps and removes the temp file when a step fails', async () => {
    const file = path.join(dir, 'f.json');
    await fs.writeFile(file, 'old');
    const failingRename: AtomicWriteSteps = {
      ...fsAtomicWriteSteps,
      rename: async () => {
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
    };
    await expect(writeFileAtomic(file, 'new', { steps: failingRename })).rejects.toThrow('no space');
    expect(await fs.readFile(file, 'utf8')).toBe('old');
    expect(await fs.readdir(dir)).toEqual(['f.json']);
  });
});
