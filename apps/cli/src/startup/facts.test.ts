import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { describedNodes, dockerAnswers } from './facts';

describe('startup facts', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('hl-startup');
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it('lists the nodes that have a services.yaml, and none for a missing folder', async () => {
    for (const [node, file] of [
      ['pi', 'services.yaml'],
      ['nas', 'services.yaml'],
      ['empty', 'README'],
    ]) {
      await fs.mkdir(path.join(tmp.path, node!));
      await fs.writeFile(path.join(tmp.path, node!, file!), '');
    }
    expect(await describedNodes(tmp.path)).toEqual(['nas', 'pi']);
    expect(await describedNodes(path.join(tmp.path, 'nope'))).toEqual([]);
  });

  it('tells a socket that accepts connections from one nobody listens on', async () => {
    const socket = path.join(tmp.path, 'docker.sock');
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      expect(await dockerAnswers(socket)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await dockerAnswers(socket)).toBe(false);
    expect(await dockerAnswers(path.join(tmp.path, 'missing.sock'))).toBe(false);
  });
});
