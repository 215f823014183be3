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
    expect(problems).toEqual([
      { file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt.containers[0]', message: 'must be a Docker container name' },
    ]);
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
    await host('piha', `node: piha
policy:
  autoApprove: low
maintenance:
  until: 2026-12-01T18:00:00Z
  reason: moving the Pi
services:
  zigbee2mqtt:
    policy: {autoApprove: none, restartBudget: {max: 5}}
    maintenance: {from: '2026-12-01T08:00:00+01:00', until: '2026-12-01T10:00:00+01:00'}
`);
    const { desired, problems } = await loadDesired(hosts, {}, log);
    expect(problems).toEqual([]);
    expect(desired.piha?.policy).toEqual({ autoApprove: 'low' });
    expect(desired.piha?.maintenance).toEqual({ until: '2026-12-01T18:00:00Z', reason: 'moving the Pi' });
    expect(desired.piha?.services.zigbee2mqtt).toMatchObject({ policy: { autoApprove: 'none', restartBudget: { max: 5 } } });
  });

  it('names file, path and reason of every bad policy or maintenance field in services.yaml', async () => {
    await host('piha', `node: piha
maintenance: {until: tomorrow}
services:
  mosquitto:
    maintenance: {reason: no end}
  zigbee2mqtt:
    autoApprove: low
    policy: {restartBudget: {backoff: 1 minute}}
    maintenance: {from: '2026-12-02T00:00:00Z', until: '2026-12-01T00:00:00Z'}
`);
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
