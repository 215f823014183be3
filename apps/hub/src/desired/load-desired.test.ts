import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { DesiredFileCache, loadDesired, type DesiredState } from './load-desired';
import { formatProblems } from './problems';

const log = createLogger('test', { level: 'silent' });
let tmp: TempDir;
let hosts: string;

beforeEach(async () => {
  tmp = await makeTempDir('desired');
  hosts = path.join(tmp.path, 'hosts');
  await fs.mkdir(hosts);
});
afterEach(() => tmp.cleanup());

async function host(name: string, yamlText: string): Promise<void> {
  await fs.mkdir(path.join(hosts, name), { recursive: true });
  await fs.writeFile(path.join(hosts, name, 'services.yaml'), yamlText);
}

const PIHA = `node: piha
services:
  zigbee2mqtt:
    containers: [zigbee2mqtt]
  homeassistant:
    monitor: false
`;

describe('loadDesired', () => {
  it('reads every host folder and applies schema defaults', async () => {
    await host('piha', PIHA);
    await host('chelsty-infra', 'node: chelsty-infra\nservices:\n  mosquitto: {}\n');
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(Object.keys(desired).sort()).toEqual(['chelsty-infra', 'piha']);
    expect(desired.piha?.services.zigbee2mqtt).toEqual({ monitor: true, containers: ['zigbee2mqtt'] });
    expect(desired.piha?.services.homeassistant?.monitor).toBe(false);
    expect(desired['chelsty-infra']?.services.mosquitto).toEqual({ monitor: true });
  });

  it('names file, path and reason of an invalid field and keeps the last good state of that host', async () => {
    await host('piha', PIHA);
    const good = (await loadDesired(hosts, {}, log)).desired;
    await host('piha', 'node: piha\nservices:\n  zigbee2mqtt:\n    containers: ["-rm"]\n');
    const { desired, problems } = await loadDesired(hosts, good, log);
    expect(problems).toEqual([{ file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt.containers[0]', message: 'must be a Docker container name' }]);
    expect(desired.piha).toEqual(good.piha);
  });

  it('leaves an invalid host out when it never had a good version, and keeps the valid hosts', async () => {
    await host('piha', 'node: piha\nservices:\n  zigbee2mqtt:\n    monitr: false\n');
    await host('chelsty-infra', 'node: chelsty-infra\n');
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(Object.keys(desired)).toEqual(['chelsty-infra']);
    expect(problems).toEqual([{ file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt', message: 'Unrecognized key: "monitr"' }]);
  });

  it('requires the node in the file to equal its folder name', async () => {
    await host('piha', 'node: chelsty-ha\n');
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(desired).toEqual({});
    expect(problems).toEqual([
      { file: 'hosts/piha/services.yaml', path: 'node', message: 'node is "chelsty-ha" but the folder is "piha"; they must be equal' },
    ]);
  });

  it('reports YAML syntax errors with line and column', async () => {
    await host('piha', 'node: piha\nservices:\n  a: [\n');
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'hosts/piha/services.yaml', path: '' });
    expect(problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('reports an empty file, a missing file, a bad service name and a bad folder name', async () => {
    await host('empty', '');
    await fs.mkdir(path.join(hosts, 'nofile'));
    await host('names', 'node: names\nservices:\n  Bad.Name: {}\n');
    await host('Bad-Folder', 'node: bad-folder\n');
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems.map((p) => [p.file, p.path, p.message.slice(0, 30)])).toEqual([
      ['hosts/Bad-Folder/services.yaml', '', 'folder name "Bad-Folder" is no'],
      ['hosts/empty/services.yaml', '', 'file is empty; expected at lea'],
      ['hosts/names/services.yaml', 'services["Bad.Name"]', 'invalid name "Bad.Name": must '],
      ['hosts/nofile/services.yaml', '', 'missing: every host folder nee'],
    ]);
  });

  it('keeps dates and yes/no words as strings instead of converting them', async () => {
    await host('piha', 'node: piha\nservices:\n  z:\n    description: 2026-01-01\n');
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(desired.piha?.services.z?.description).toBe('2026-01-01');
  });

  it('ignores hidden entries and plain files next to the host folders', async () => {
    await host('piha', PIHA);
    await fs.writeFile(path.join(hosts, 'README.md'), '# hosts');
    await fs.mkdir(path.join(hosts, '.git'));
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(Object.keys(desired)).toEqual(['piha']);
  });

  it('drops a host whose folder was removed', async () => {
    const last: DesiredState = { gone: { node: 'gone', services: {} } };
    await host('piha', PIHA);
    expect(Object.keys((await loadDesired(hosts, last, log)).desired)).toEqual(['piha']);
  });

  it('keeps the whole last good state when the hosts folder cannot be read', async () => {
    const last: DesiredState = { piha: { node: 'piha', services: {} } };
    const { desired, problems } = await loadDesired(path.join(tmp.path, 'nope'), last, log);
    expect(desired).toEqual(last);
    expect(problems[0]?.message).toMatch(/cannot read the hosts folder/);
  });
});

describe('desired state that could hurt the node or leak to viewers', () => {
  it('refuses a services.yaml that is a symbolic link, naming file and reason, and keeps the last good state', async () => {
    await host('piha', PIHA);
    const good = (await loadDesired(hosts, {}, log)).desired;
    const elsewhere = path.join(tmp.path, 'secret.yaml');
    await fs.writeFile(elsewhere, 'db_password: hunter2\napi_token: abc\n');
    await fs.rm(path.join(hosts, 'piha', 'services.yaml'));
    await fs.symlink(elsewhere, path.join(hosts, 'piha', 'services.yaml'));
    for (const cache of [undefined, new DesiredFileCache()]) {
      const { desired, problems, invalidHosts } = await loadDesired(hosts, good, log, { cache });
      expect(problems).toEqual([
        { file: 'hosts/piha/services.yaml', path: '', message: 'the file is a symbolic link; links are not followed, put the real file in the hosts folder' },
      ]);
      expect(JSON.stringify(problems)).not.toMatch(/db_password|api_token/);
      expect(invalidHosts).toEqual(['piha']);
      expect(desired.piha).toEqual(good.piha);
    }
  });

  it('refuses a host folder that is a symbolic link', async () => {
    const outside = path.join(tmp.path, 'outside');
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'services.yaml'), 'node: linked\nservices: {}\n');
    await fs.symlink(outside, path.join(hosts, 'linked'));
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(desired).toEqual({});
    expect(problems).toEqual([
      {
        file: 'hosts/linked/services.yaml',
        path: '',
        message: 'the host folder hosts/linked is a symbolic link; links are not followed, put the real file in the hosts folder',
      },
    ]);
  });

  it('refuses a symbolic link as hosts/policy.yaml', async () => {
    const elsewhere = path.join(tmp.path, 'p.yaml');
    await fs.writeFile(elsewhere, 'autoApprove: guarded\n');
    await fs.symlink(elsewhere, path.join(hosts, 'policy.yaml'));
    const { policy, problems } = await loadDesired(hosts, {}, log);
    expect(policy).toBeUndefined();
    expect(problems).toEqual([
      { file: 'hosts/policy.yaml', path: '', message: 'the file is a symbolic link; links are not followed, put the real file in the hosts folder' },
    ]);
  });

  it('quotes at most five unknown keys, each cut to 64 characters', async () => {
    const long = 'k'.repeat(300);
    await host('piha', `node: piha\nservices:\n  z:\n    ${long}: 1\n    a: 1\n    b: 1\n    c: 1\n    d: 1\n    e: 1\n    f: 1\n`);
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([
      { file: 'hosts/piha/services.yaml', path: 'services.z', message: `Unrecognized keys: "${'k'.repeat(64)}…", "a", "b", "c", "d" and 2 more` },
    ]);
  });

  it.each([
    { why: 'a NUL byte', file: '"/opt/stacks/z2m/\\0docker-compose.yml"', message: 'must not contain control characters (NUL, newline, …)' },
    { why: 'a file that is no compose file', file: '/etc/shadow', message: 'must name a compose file ending in .yml or .yaml' },
    { why: 'a .. segment', file: '/opt/stacks/../../etc/x.yml', message: 'must not contain ..' },
  ])('refuses a compose.file with $why, naming file, path and reason', async ({ file, message }) => {
    await host('piha', `node: piha\nservices:\n  z2m:\n    compose: {file: ${file}, project: z2m}\n`);
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([{ file: 'hosts/piha/services.yaml', path: 'services.z2m.compose.file', message }]);
  });

  it("refuses an mqtt probe whose passwordEnv names the agent's own broker secret", async () => {
    await host('piha', 'node: piha\nservices:\n  m:\n    probes:\n      - {type: mqtt, url: "mqtt://evil.example:1883", passwordEnv: HOMELAB_MQTT_PASSWORD}\n');
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([
      {
        file: 'hosts/piha/services.yaml',
        path: 'services.m.probes[0].passwordEnv',
        message: "must not name the agent's own broker credential; give the probe a variable of its own",
      },
    ]);
  });

  it('accepts `backoff: 0` as YAML writes it (a number), as the docs allow', async () => {
    await host('piha', 'node: piha\npolicy:\n  restartBudget: {backoff: 0}\nservices: {}\n');
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(desired.piha?.policy?.restartBudget?.backoff).toBe('0');
  });
});

describe('DesiredFileCache', () => {
  const past = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000);

  it('parses an unchanged file once, and again as soon as it changes', async () => {
    await host('piha', PIHA);
    const file = path.join(hosts, 'piha', 'services.yaml');
    await fs.utimes(file, past(60), past(60));
    const cache = new DesiredFileCache();
    const first = await loadDesired(hosts, {}, log, { cache });
    const second = await loadDesired(hosts, {}, log, { cache });
    expect(cache.hits).toBe(1);
    expect(second.desired).toEqual(first.desired);
    // Same size, new content, an old mtime again: the signature (mtime, ctime) still differs.
    await fs.writeFile(file, PIHA.replace('zigbee2mqtt]', 'zigbee2mqtX]'));
    await fs.utimes(file, past(30), past(30));
    const third = await loadDesired(hosts, {}, log, { cache });
    expect(third.desired.piha?.services.zigbee2mqtt?.containers).toEqual(['zigbee2mqtX']);
    expect(cache.hits).toBe(1);
  });

  it('does not cache a file modified within the last two seconds (racy)', async () => {
    await host('piha', PIHA);
    const cache = new DesiredFileCache();
    await loadDesired(hosts, {}, log, { cache });
    await loadDesired(hosts, {}, log, { cache });
    expect(cache.hits).toBe(0);
  });
});

describe('policy and maintenance', () => {
  it('reads hosts/policy.yaml as the fleet-wide policy; no file means built-in defaults', async () => {
    await host('piha', PIHA);
    expect((await loadDesired(hosts, {}, log)).policy).toBeUndefined();
    await fs.writeFile(path.join(hosts, 'policy.yaml'), 'autoApprove: low\nrestartBudget:\n  max: 2\n  window: 10m\n  backoff: 0s\nrejectCooldown: 1h30m\n');
    const { policy, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(policy).toEqual({ autoApprove: 'low', restartBudget: { max: 2, window: '10m', backoff: '0s' }, rejectCooldown: '1h30m' });
  });

  it('treats a policy.yaml holding only comments as all defaults', async () => {
    await fs.writeFile(path.join(hosts, 'policy.yaml'), '# autoApprove: low\n');
    expect(await loadDesired(hosts, {}, log)).toMatchObject({ policy: {}, problems: [] });
  });

  it('reports every problem of an invalid policy.yaml and keeps the last good policy', async () => {
    await fs.writeFile(path.join(hosts, 'policy.yaml'), 'autoApprove: sometimes\nrestartBudget: {max: -1, windw: 5m}\nrejectCooldown: 10s\n');
    const { policy, problems } = await loadDesired(hosts, {}, log, { lastGoodPolicy: { autoApprove: 'low' } });
    expect(policy).toEqual({ autoApprove: 'low' });
    expect(problems).toEqual([
      { file: 'hosts/policy.yaml', path: 'autoApprove', message: 'Invalid option: expected one of "none"|"low"|"guarded"' },
      { file: 'hosts/policy.yaml', path: 'restartBudget.max', message: 'Too small: expected number to be >=0' },
      { file: 'hosts/policy.yaml', path: 'restartBudget', message: 'Unrecognized key: "windw"' },
      { file: 'hosts/policy.yaml', path: 'rejectCooldown', message: 'must be between 1m and 30d' },
    ]);
  });

  it('reports a YAML syntax error in policy.yaml with line and column', async () => {
    await fs.writeFile(path.join(hosts, 'policy.yaml'), 'autoApprove: low\nrestartBudget: {max: 2\n');
    const { problems, policy } = await loadDesired(hosts, {}, log);
    expect(policy).toBeUndefined();
    expect(problems).toEqual([{ file: 'hosts/policy.yaml', path: '', message: expect.stringMatching(/^YAML syntax error at line \d+, column \d+: /) }]);
  });

  it('accepts policy and maintenance on a host and on a service', async () => {
    await host(
      'piha',
      `node: piha
policy:
  autoApprove: low
maintenance:
  until: 2026-12-01T18:00:00Z
  reason: moving the Pi
services:
  zigbee2mqtt:
    policy: {autoApprove: none, restartBudget: {max: 5}}
    maintenance: {from: '2026-12-01T08:00:00+01:00', until: '2026-12-01T10:00:00+01:00'}
`,
    );
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(desired.piha?.policy).toEqual({ autoApprove: 'low' });
    expect(desired.piha?.maintenance).toEqual({ until: '2026-12-01T18:00:00Z', reason: 'moving the Pi' });
    expect(desired.piha?.services.zigbee2mqtt).toMatchObject({ policy: { autoApprove: 'none', restartBudget: { max: 5 } } });
  });

  it('names file, path and reason of every bad policy or maintenance field in services.yaml', async () => {
    await host(
      'piha',
      `node: piha
maintenance: {until: tomorrow}
services:
  mosquitto:
    maintenance: {reason: no end}
  zigbee2mqtt:
    autoApprove: low
    policy: {restartBudget: {backoff: 1 minute}}
    maintenance: {from: '2026-12-02T00:00:00Z', until: '2026-12-01T00:00:00Z'}
`,
    );
    const { problems } = await loadDesired(hosts, {}, log);
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'maintenance.until: Invalid ISO datetime',
      'services.mosquitto.maintenance.until: missing: a string is required here',
      'services.zigbee2mqtt.policy.restartBudget.backoff: must be a duration like 90s, 10m, 6h, 1h30m, 2d or 0',
      'services.zigbee2mqtt.maintenance.from: from must be before until',
      'services.zigbee2mqtt: Unrecognized key: "autoApprove"',
    ]);
  });
});

it("accepts the repository's own hosts/ folder", async () => {
  const repoHosts = path.resolve(import.meta.dirname, '../../../../hosts');
  const { desired, problems } = await loadDesired(repoHosts, {}, log);
  expect(problems).toEqual([]);
  expect(Object.keys(desired).length).toBeGreaterThan(0);
});

describe('formatProblems', () => {
  it('prints one line per problem under a count', () => {
    const text = formatProblems([
      { file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt.containers[0]', message: 'must be a Docker container name' },
      { file: 'hosts/piha/services.yaml', path: '', message: 'file is empty' },
    ]);
    expect(text).toBe(
      [
        '2 problems in 1 file (the last valid version of each stays in force):',
        '  hosts/piha/services.yaml: services.zigbee2mqtt.containers[0]: must be a Docker container name',
        '  hosts/piha/services.yaml: file is empty',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to report', () => {
    expect(formatProblems([])).toBe('no problems');
  });
});
