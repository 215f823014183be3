import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { composeFileRefusal, underStackRoots } from './stack-roots';

describe('underStackRoots', () => {
  it.each([
    { file: '/opt/stacks/z2m/docker-compose.yml', roots: ['/opt/stacks'], under: true },
    { file: '/srv/a.yml', roots: ['/opt/stacks', '/srv'], under: true },
    { file: '/etc/shadow', roots: ['/opt/stacks'], under: false },
    { file: '/opt/stacks-evil/a.yml', roots: ['/opt/stacks'], under: false },
    { file: '/opt/stacks', roots: ['/opt/stacks'], under: false },
  ])('$file under $roots: $under', ({ file, roots, under }) => {
    expect(underStackRoots(file, roots)).toBe(under);
  });
});

describe('composeFileRefusal', () => {
  let tmp: TempDir;
  let stacks: string;
  beforeEach(async () => {
    tmp = await makeTempDir('hl-roots');
    stacks = path.join(tmp.path, 'stacks');
    await fs.mkdir(path.join(stacks, 'app'), { recursive: true });
    await fs.writeFile(path.join(stacks, 'app', 'docker-compose.yml'), 'services: {}\n');
  });
  afterEach(() => tmp.cleanup());

  it('allows a file under a root, and one that does not exist yet (compose reports it)', async () => {
    expect(await composeFileRefusal(path.join(stacks, 'app', 'docker-compose.yml'), [stacks])).toBeNull();
    expect(await composeFileRefusal(path.join(stacks, 'gone', 'docker-compose.yml'), [stacks])).toBeNull();
  });

  it('refuses a file outside every root, naming the roots and the setting', async () => {
    expect(await composeFileRefusal('/etc/compose.yml', [stacks])).toBe(
      `compose file /etc/compose.yml is outside the agent's stack roots (allowed: ${stacks}; set HOMELAB_STACK_ROOTS on the agent to change it)`,
    );
  });

  it('refuses a path that only looks inside a root (..)', async () => {
    expect(await composeFileRefusal(`${stacks}/../outside.yml`, [stacks])).toMatch(/outside the agent's stack roots/);
  });

  it('refuses a link inside a root that resolves to a file outside it', async () => {
    const outside = path.join(tmp.path, 'secret.yml');
    await fs.writeFile(outside, 'x: 1\n');
    await fs.symlink(outside, path.join(stacks, 'app', 'linked.yml'));
    expect(await composeFileRefusal(path.join(stacks, 'app', 'linked.yml'), [stacks])).toBe(
      `compose file ${path.join(stacks, 'app', 'linked.yml')} resolves to ${outside}, outside the agent's stack roots (allowed: ${stacks}; set HOMELAB_STACK_ROOTS on the agent to change it)`,
    );
  });

  it('allows files under a root that is itself a link', async () => {
    const linkedRoot = path.join(tmp.path, 'stacks-link');
    await fs.symlink(stacks, linkedRoot);
    expect(await composeFileRefusal(path.join(linkedRoot, 'app', 'docker-compose.yml'), [linkedRoot])).toBeNull();
  });
});
