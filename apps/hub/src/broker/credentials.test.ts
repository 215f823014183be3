import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideConnect } from './auth';
import { CredentialStore } from './credential-store';
import { addCredential, addCredentials, CREDENTIALS_FILE, hashMosquitto, readCredentials, removeCredential, verifyScrypt } from './credentials';
import { mosquittoFiles } from './mosquitto-config';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-creds-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('MQTT credentials file', () => {
  it('stores a new node’s secret only as hashes, readable by its owner only', async () => {
    const secret = await addCredential(root, 'piha');
    const file = path.join(root, CREDENTIALS_FILE);
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe('600');
    const creds = await readCredentials(root);
    expect(creds.users.piha!.role).toBe('node');
    expect(await verifyScrypt(secret, creds.users.piha!.scrypt)).toBe(true);
    expect(await verifyScrypt(`${secret}x`, creds.users.piha!.scrypt)).toBe(false);
  });

  it('writes the Mosquitto hash exactly as mosquitto_passwd does', async () => {
    // From `mosquitto_passwd -b pw alice secret` (mosquitto 2.0.11).
    const line = '$7$101$pn8Lw2WDjTAMOl0i$9EdA3op87slPX58b7Jy8b3yqzBIpUlW1IaLRTCXhnF8fgAuwhbQJRnuvv+YLbwMltLDiJgCJsgQtpOSrECeDbQ==';
    expect(await hashMosquitto('secret', 101, Buffer.from('pn8Lw2WDjTAMOl0i', 'base64'))).toBe(line);
  });

  it.each(['../x', '..', 'a/b', 'pi+ha', '#', 'UPPER', '-f', 'a'.repeat(64), 'x\0y', '%2e%2e', ''])(
    'refuses the name %j before touching any file',
    async (name) => {
      await expect(addCredential(root, name)).rejects.toThrow(/not a valid name/);
      await expect(fs.stat(path.join(root, 'state'))).rejects.toThrow();
    },
  );

  it('keeps the hub’s name for the hub, refuses a second secret without --rotate, and rotates one', async () => {
    await expect(addCredential(root, 'homelab-hub')).rejects.toThrow(/reserved for the hub/);
    await expect(addCredential(root, 'ops', { role: 'hub' })).rejects.toThrow(/always 'homelab-hub'/);
    const first = await addCredential(root, 'piha');
    await expect(addCredential(root, 'piha')).rejects.toThrow(/--rotate/);
    const second = await addCredential(root, 'piha', { rotate: true });
    const creds = await readCredentials(root);
    expect(await verifyScrypt(first, creds.users.piha!.scrypt)).toBe(false);
    expect(await verifyScrypt(second, creds.users.piha!.scrypt)).toBe(true);
    expect(await removeCredential(root, 'piha')).toBe(true);
    expect(await removeCredential(root, 'piha')).toBe(false);
  });

  it('names the file when it is broken', async () => {
    await fs.mkdir(path.join(root, 'state'), { recursive: true });
    await fs.writeFile(path.join(root, CREDENTIALS_FILE), '{"version":1,"users":{"../x":{}}}');
    await expect(readCredentials(root)).rejects.toThrow(/mqtt-credentials\.json/);
  });
});

describe('credential store as the broker sees it', () => {
  it('admits the right secret, refuses wrong ones, and picks up additions and removals without a restart', async () => {
    const store = new CredentialStore(root);
    await store.load();
    const piha = await addCredential(root, 'piha');
    expect(await decideConnect(store, false, 'piha', 'piha', Buffer.from(piha))).toMatchObject({ ok: true, identity: { kind: 'node', node: 'piha' } });
    expect(await decideConnect(store, false, 'piha', 'piha', Buffer.from('guess'))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await decideConnect(store, false, 'piha', undefined, undefined)).toMatchObject({ ok: false, returnCode: 5 });
    await removeCredential(root, 'piha');
    expect(await decideConnect(store, false, 'piha', 'piha', Buffer.from(piha))).toMatchObject({ ok: false, returnCode: 4 });
  });

  it('gives each role its identity only under its own client id', async () => {
    const s = await addCredentials(root, [
      { name: 'piha', role: 'node' },
      { name: 'homelab-hub', role: 'hub' },
      { name: 'ops', role: 'inspector' },
    ]);
    const store = new CredentialStore(root);
    await store.load();
    const pw = (n: string) => Buffer.from(s[n]!);
    expect(await decideConnect(store, false, 'homelab-hub', 'homelab-hub', pw('homelab-hub'))).toMatchObject({ ok: true, identity: { kind: 'hub' } });
    expect(await decideConnect(store, false, 'other', 'homelab-hub', pw('homelab-hub'))).toMatchObject({ ok: false, reason: 'client_id_mismatch' });
    expect(await decideConnect(store, false, 'mosq-123', 'ops', pw('ops'))).toMatchObject({ ok: true, identity: { kind: 'inspector' } });
    expect(await decideConnect(store, false, 'piha', 'ops', pw('ops'))).toMatchObject({ ok: false, reason: 'client_id_taken' });
    expect(await decideConnect(store, false, 'chelsty-ha', 'piha', pw('piha'))).toMatchObject({ ok: false, reason: 'client_id_mismatch' });
  });
});

describe('Mosquitto files from the credentials', () => {
  it('gives each node its own topics, the hub the prefix, inspectors read-only, and denies anonymous', async () => {
    await addCredentials(root, [
      { name: 'piha', role: 'node' },
      { name: 'homelab-hub', role: 'hub' },
      { name: 'ops', role: 'inspector' },
    ]);
    const files = mosquittoFiles(await readCredentials(root), { maxPayloadBytes: 1000 });
    expect(
      files.passwords
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['homelab-hub', 'ops', 'piha']);
    expect(files.passwords).toMatch(/^piha:\$7\$1000\$/m);
    const block = (user: string) =>
      files.acl
        .split('\n\n')
        .find((b) => b.startsWith(`user ${user}\n`))!
        .split('\n')
        .slice(1)
        .filter(Boolean);
    expect(block('piha')).toEqual([
      'topic write homelab/v1/nodes/piha/events',
      'topic write homelab/v1/nodes/piha/results',
      'topic write homelab/v1/nodes/piha/status',
      'topic read homelab/v1/nodes/piha/desired',
      'topic read homelab/v1/nodes/piha/commands',
      'topic read homelab/v1/nodes/piha/acks',
    ]);
    expect(block('homelab-hub')).toEqual([
      'topic readwrite homelab/v1/#',
      'topic write homeassistant/+/+/+/config',
      'topic read homeassistant/+/+/+/config',
      'topic read homeassistant/status',
    ]);
    expect(block('ops')).toEqual(['topic read homelab/#']);
    expect(files.acl).not.toMatch(/^pattern/m);
    const conf = files.conf({ passwordFile: '/x/passwords', aclFile: '/x/acl' });
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^use_username_as_clientid true$/m);
    expect(conf).toMatch(/^max_packet_size 2024$/m);
    expect(conf).toMatch(/^listener 1883 127\.0\.0\.1$/m);
  });

  it('binds the listener to the address given, and refuses one that could add a line to the conf', () => {
    const creds = { version: 1, users: {} } as never;
    const conf = (bind?: string) => mosquittoFiles(creds, { maxPayloadBytes: 1000, port: 1884, bind }).conf({ passwordFile: '/x/p', aclFile: '/x/a' });
    expect(conf('100.64.0.7')).toMatch(/^listener 1884 100\.64\.0\.7$/m);
    expect(conf('::1')).toMatch(/^listener 1884 ::1$/m);
    expect(conf('hub.lan')).toMatch(/^listener 1884 hub\.lan$/m);
    for (const bad of ['', '0.0.0.0\nallow_anonymous true', 'a b', '-h']) expect(() => conf(bad), bad).toThrow(/not an IP address or host name/);
  });
});
