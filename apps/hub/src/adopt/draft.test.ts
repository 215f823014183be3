import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { UnmanagedContainer } from '@homelab/contracts';
import { draftServicesFile, revisionOf, slugName } from './draft';

const compose = (name: string, project: string, service: string, extra: Partial<UnmanagedContainer> = {}): UnmanagedContainer => ({
  name,
  state: 'running',
  image: `${service}:1`,
  compose: { project, service, configFile: `/opt/stacks/${project}/docker-compose.yml`, version: '1.29.2' },
  ...extra,
});
const standalone = (name: string, extra: Partial<UnmanagedContainer> = {}): UnmanagedContainer => ({
  name,
  state: 'running',
  image: `${name}:latest`,
  ...extra,
});
const servicesOf = (text: string) => (yaml.load(text, { schema: yaml.CORE_SCHEMA }) as { services: Record<string, unknown> }).services;

describe('draftServicesFile', () => {
  it('drafts one service per compose project/service and one per standalone container, leaving out the opted-out', () => {
    const d = draftServicesFile({
      node: 'piha',
      current: null,
      force: false,
      unmanaged: [
        compose('site_web_1', 'site', 'web', { healthcheck: true }),
        compose('site_web_2', 'site', 'web'),
        compose('site_db_1', 'site', 'db'),
        standalone('portainer'),
        standalone('node-agent', { adopt: false }),
      ],
    });
    expect(d.problems).toEqual([]);
    expect(d.refused).toBeUndefined();
    expect(d.skipped).toEqual([{ container: 'node-agent', reason: 'labelled homelab.adopt=false' }]);
    expect(servicesOf(d.text)).toEqual({
      db: { containers: ['site_db_1'], compose: { file: '/opt/stacks/site/docker-compose.yml', project: 'site' } },
      web: { containers: ['site_web_1', 'site_web_2'], compose: { file: '/opt/stacks/site/docker-compose.yml', project: 'site' } },
      portainer: {},
    });
    expect(d.text).toMatch(/# healthcheck: defined[^\n]*\n\s+web:/);
    expect(d.text).toMatch(/# healthcheck: none seen[^\n]*\n\s+portainer:/);
    expect(d.diff).toContain('+node: piha');
    expect(d.baseRevision).toBe('none');
  });

  it.each([
    {
      name: 'the same compose service in two projects: the second takes project-service',
      containers: [compose('a_web_1', 'a', 'web'), compose('b_web_1', 'b', 'web')],
      expect: ['b-web', 'web'],
    },
    { name: 'a container name that is no service name is made one', containers: [standalone('My.App_Server')], expect: ['my-app_server'] },
    {
      name: 'names that clash after slugging get -2',
      containers: [standalone('app.x'), standalone('app_x'), standalone('App-X')],
      expect: ['app-x', 'app-x-2', 'app_x'],
    },
  ])('derives service names deterministically: $name', ({ containers, expect: names }) => {
    const once = draftServicesFile({ node: 'n1', current: null, force: false, unmanaged: containers });
    const again = draftServicesFile({ node: 'n1', current: null, force: false, unmanaged: [...containers].reverse() });
    expect(Object.keys(servicesOf(once.text)).sort()).toEqual(names);
    expect(again.text).toBe(once.text);
    expect(once.problems).toEqual([]);
  });

  it.each([
    {
      name: 'compose v2 gets the docker compose command',
      c: compose('x_1', 'p', 'svc', { compose: { project: 'p', service: 'svc', configFile: '/s/p/compose.yaml', version: '2.27.0' } }),
      expect: { file: '/s/p/compose.yaml', project: 'p', command: 'docker compose' },
    },
    { name: 'a service name that differs from the compose service keeps it', c: compose('x_1', 'p', 'Web'), expect: undefined },
    { name: 'no config file label: no compose block', c: compose('x_1', 'p', 'svc', { compose: { project: 'p', service: 'svc' } }), expect: undefined },
    {
      name: 'a relative config file: no compose block',
      c: compose('x_1', 'p', 'svc', { compose: { project: 'p', service: 'svc', configFile: 'docker-compose.yml' } }),
      expect: undefined,
    },
  ])('drafts the compose block only from labels the schema accepts: $name', ({ c, expect: block }) => {
    const d = draftServicesFile({ node: 'n1', current: null, force: false, unmanaged: [c] });
    expect(d.problems).toEqual([]);
    const [spec] = Object.values(servicesOf(d.text)) as { compose?: unknown }[];
    expect(spec?.compose).toEqual(block);
    if (!block) expect(d.text).toContain('# no compose block:');
  });

  it('keeps the current file as written, comments included, and only adds new services', () => {
    const current = '# my notes\nnode: piha\nservices:\n  web:   # hand-tuned\n    containers: [old-web]\n    monitor: false\n';
    const d = draftServicesFile({ node: 'piha', current, force: false, unmanaged: [standalone('web'), standalone('grafana')] });
    expect(d.text.startsWith(current)).toBe(true);
    expect(servicesOf(d.text)).toEqual({ web: { containers: ['old-web'], monitor: false }, 'web-2': { containers: ['web'] }, grafana: {} });
    expect(d.replaced).toEqual([]);
    expect(d.baseRevision).toBe(revisionOf(current));
  });

  it.each([
    {
      name: 'an empty flow map',
      current: 'node: piha\nservices: {}   # none yet\npolicy: {autoApprove: low}\n',
      keep: ['node: piha', 'policy: {autoApprove: low}'],
    },
    { name: 'no services key', current: '# mine\nnode: piha', keep: ['# mine\nnode: piha\n'] },
    { name: 'a flow map with entries (re-rendered, entries kept)', current: 'node: piha\nservices: {web: {}}\n', keep: ['node: piha', '  web: {}'] },
    {
      name: 'four-space indentation, a comment after the last service',
      current: 'node: piha\nservices:\n    web:\n        containers: [w]\n# end\n',
      keep: ['node: piha\nservices:\n    web:\n        containers: [w]\n'],
    },
  ])('adds to the current text without restyling it: $name', ({ current, keep }) => {
    const d = draftServicesFile({ node: 'piha', current, force: false, unmanaged: [standalone('grafana')] });
    expect(d.problems).toEqual([]);
    for (const k of keep) expect(d.text).toContain(k);
    expect(servicesOf(d.text)).toMatchObject({ grafana: {} });
  });

  it('replaces a service of the same name only with force', () => {
    const current = 'node: piha\nservices:\n  web:\n    containers: [old-web]\n';
    const d = draftServicesFile({ node: 'piha', current, force: true, unmanaged: [standalone('web')] });
    expect(servicesOf(d.text)).toEqual({ web: {} });
    expect(d.replaced).toEqual(['web']);
  });

  it.each([
    { name: 'a YAML syntax error', current: 'node: piha\nservices: [\n' },
    { name: 'a schema error', current: 'node: piha\nservices:\n  web: {contaners: [x]}\n' },
    { name: 'another node', current: 'node: other\nservices: {}\n' },
  ])('refuses to merge into an invalid file without force, and replaces it with force: $name', ({ current }) => {
    const refused = draftServicesFile({ node: 'piha', current, force: false, unmanaged: [standalone('web')] });
    expect(refused.refused).toMatch(/is not valid .*--force/);
    expect(refused.text).toBe(current);
    const forced = draftServicesFile({ node: 'piha', current, force: true, unmanaged: [standalone('web')] });
    expect(forced.refused).toBeUndefined();
    expect(forced.problems).toEqual([]);
    expect(servicesOf(forced.text)).toEqual({ web: {} });
  });

  it('changes nothing when nothing is left to adopt', () => {
    const current = 'node: piha\nservices: {}\n';
    const d = draftServicesFile({ node: 'piha', current, force: false, unmanaged: [standalone('agent', { adopt: false })] });
    expect(d.added).toEqual([]);
    expect(d.diff).toBe('');
  });

  it('keeps text from the node inside its comment: an image with line breaks adds no key', () => {
    const d = draftServicesFile({ node: 'piha', current: null, force: false, unmanaged: [standalone('web', { image: 'evil\nnode: other\r\u2028x: 1' })] });
    expect(d.problems).toEqual([]);
    expect(yaml.load(d.text, { schema: yaml.CORE_SCHEMA })).toEqual({ node: 'piha', services: { web: {} } });
  });
});

describe('slugName', () => {
  it.each([
    ['Web.Server', 'web-server'],
    ['--x--', 'x'],
    ['...', ''],
    ['a'.repeat(70), 'a'.repeat(63)],
  ])('%s → %s', (raw, slug) => expect(slugName(raw)).toBe(slug));
});
