import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { homelab } from '../support/stack';

/** Runs `homelab …` to completion and returns its exit code and output (stdout and stderr). */
async function run(args: string[]) {
  const proc = homelab(args, { name: `cli-${args.slice(0, 2).join('-')}`, env: { LOG_LEVEL: 'warn' } });
  const code = await proc.exited;
  return { code, out: proc.output() };
}
const secretIn = (out: string) => out.split('\n').find((l) => /^[A-Za-z0-9_-]{32}$/.test(l));

describe('homelab nodes and broker-config', () => {
  let tmp: TempDir;
  let root: string;
  beforeAll(async () => {
    tmp = await makeTempDir('hl-cli-nodes-');
    root = path.join(tmp.path, 'root');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  it.each(['nodes', 'broker-config'])('explains itself with %s --help', async (sub) => {
    const { code, out } = await run([sub, '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: homelab/);
  });

  it('adds, lists, rotates and removes identities; the secret is printed once and never stored', async () => {
    const added = await run(['nodes', 'add', 'piha', '--root', root]);
    expect(added.code).toBe(0);
    const secret = secretIn(added.out)!;
    expect(secret).toBeDefined();
    expect(added.out).toContain('HOMELAB_MQTT_PASSWORD');
    expect((await run(['nodes', 'add', 'ops', '--role', 'inspector', '--root', root])).code).toBe(0);

    const again = await run(['nodes', 'add', 'piha', '--root', root]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/--rotate/);
    const rotated = await run(['nodes', 'add', 'piha', '--rotate', '--root', root]);
    expect(rotated.code).toBe(0);
    expect(secretIn(rotated.out)).not.toBe(secret);

    const list = await run(['nodes', 'list', '--root', root]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^ops\s+inspector\s/m);
    expect(list.out).toMatch(/^piha\s+node\s/m);
    const stored = await fs.readFile(path.join(root, 'state/mqtt-credentials.json'), 'utf8');
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secretIn(rotated.out)!);

    expect((await run(['nodes', 'remove', 'piha', '--root', root])).code).toBe(0);
    expect((await run(['nodes', 'remove', 'piha', '--root', root])).code).toBe(1);
    expect((await run(['nodes', 'list', '--root', root])).out).not.toMatch(/^piha\s/m);
    expect((await run(['nodes', 'add', 'x', '--role', 'admin', '--root', root])).code).toBe(2);
  });

  it('writes the Mosquitto password file (0600, $7$ hashes), ACL and conf, and warns without a hub identity', async () => {
    const out = path.join(tmp.path, 'mq');
    const res = await run(['broker-config', '--root', root, '--out', out]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/no hub identity yet/);
    expect((await fs.stat(path.join(out, 'passwords'))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(out, 'passwords'), 'utf8')).toMatch(/^ops:\$7\$/m);
    expect(await fs.readFile(path.join(out, 'acl'), 'utf8')).toContain('user ops\ntopic read homelab/#');
    expect(await fs.readFile(path.join(out, 'mosquitto.conf'), 'utf8')).toContain(`password_file ${path.join(out, 'passwords')}`);
    expect((await run(['broker-config', '--root', root])).code).toBe(2);
  });

  it('binds the Mosquitto listener to loopback unless --bind says otherwise, and refuses an address that is none', async () => {
    const conf = async (dir: string) => fs.readFile(path.join(tmp.path, dir, 'mosquitto.conf'), 'utf8');
    expect((await run(['broker-config', '--root', root, '--out', path.join(tmp.path, 'mq-default')])).code).toBe(0);
    expect(await conf('mq-default')).toMatch(/^listener 1883 127\.0\.0\.1$/m);
    expect((await run(['broker-config', '--root', root, '--out', path.join(tmp.path, 'mq-lan'), '--bind', '100.64.0.7', '--port', '1884'])).code).toBe(0);
    expect(await conf('mq-lan')).toMatch(/^listener 1884 100\.64\.0\.7$/m);
    const bad = await run(['broker-config', '--root', root, '--out', path.join(tmp.path, 'mq-bad'), '--bind', '0.0.0.0\nallow_anonymous true']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--bind must be an IP address or host name/);
    await expect(fs.stat(path.join(tmp.path, 'mq-bad'))).rejects.toThrow();
  });
});
