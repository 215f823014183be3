import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { loadDesired, type DesiredState } from './load-desired';
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
