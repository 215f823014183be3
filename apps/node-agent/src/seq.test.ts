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

  it('persists the lease before handing out a seq beyond it', async () => {
    const s = new SeqAllocator(tmp.path, 10);
    await s.open();
    await s.next();
    expect(JSON.parse(await fs.readFile(path.join(tmp.path, 'seq.json'), 'utf8'))).toEqual({ leaseEnd: 11 });
    await take(s, 10); // up to 11
    expect(JSON.parse(await fs.readFile(path.join(tmp.path, 'seq.json'), 'utf8'))).toEqual({ leaseEnd: 21 });
  });

  it('never reuses a seq after a restart (crash without any shutdown step)', async () => {
    const a = new SeqAllocator(tmp.path, 10);
    await a.open();
    const first = await take(a, 13);
    const b = new SeqAllocator(tmp.path, 10);
    await b.open();
    const second = await take(b, 3);
    expect(Math.min(...second)).toBeGreaterThan(Math.max(...first));
    expect(second).toEqual([21, 22, 23]);
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
