import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { SeqAllocator } from './seq';

describe('SeqAllocator', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('hl-seq');
  });
  afterEach(() => tmp.cleanup());

  const take = async (s: SeqAllocator, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await s.next());
    return out;
  };

  it('hands out 1, 2, 3… on a fresh state dir', async () => {
    const s = new SeqAllocator(tmp.path, 10);
    await s.open();
    expect(await take(s, 3)).toEqual([1, 2, 3]);
  });

  const lease = async () => JSON.parse(await fs.readFile(path.join(tmp.path, 'seq.json'), 'utf8')).leaseEnd as number;

  it('never hands out a seq the persisted lease does not cover, and extends it ahead of time', async () => {
    const s = new SeqAllocator(tmp.path, 10);
    await s.open();
    expect(await s.next()).toBe(1);
    expect(await lease()).toBe(11);
    for (let i = 0; i < 30; i++) {
      const seq = await s.next();
      expect(await lease()).toBeGreaterThan(seq);
    }
  });

  it('hands out seqs without waiting while the lease covers them (tryNext), null when it does not', async () => {
    const s = new SeqAllocator(tmp.path, 10);
    expect(s.tryNext()).toBeNull(); // not open
    await s.open();
    expect(s.tryNext()).toBeNull(); // no lease yet
    expect(await s.next()).toBe(1);
    const got: number[] = [];
    for (let seq = s.tryNext(); seq !== null; seq = s.tryNext()) got.push(seq);
    expect(got[0]).toBe(2);
    expect(await lease()).toBeGreaterThan(got.at(-1)!);
    expect(await s.next()).toBe(got.at(-1)! + 1);
  });

  it('never reuses a seq after a restart (crash without any shutdown step)', async () => {
    const a = new SeqAllocator(tmp.path, 10);
    await a.open();
    const first = await take(a, 13);
    const b = new SeqAllocator(tmp.path, 10);
    await b.open();
    const second = await take(b, 3);
    expect(Math.min(...second)).toBeGreaterThan(Math.max(...first));
  });

  it('gives unique seqs to concurrent callers', async () => {
    const s = new SeqAllocator(tmp.path, 5);
    await s.open();
    const got = await Promise.all(Array.from({ length: 40 }, () => s.next()));
    expect(new Set(got).size).toBe(40);
    expect([...got].sort((x, y) => x - y)).toEqual(got);
  });

  it('stays above a seq it is told about (e.g. the outbox or a hub ack)', async () => {
    const s = new SeqAllocator(tmp.path, 10);
    await s.open();
    s.ensureAbove(500);
    expect(await s.next()).toBe(501);
    const again = new SeqAllocator(tmp.path, 10);
    await again.open();
    expect(await again.next()).toBeGreaterThan(501);
  });

  it('refuses to start on a corrupt lease instead of guessing', async () => {
    await fs.writeFile(path.join(tmp.path, 'seq.json'), '{"leaseEnd":');
    const s = new SeqAllocator(tmp.path);
    await expect(s.open()).rejects.toMatchObject({ name: 'AgentError', code: 'state_corrupt' });
  });
});
