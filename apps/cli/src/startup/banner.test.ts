import { describe, expect, it } from 'vitest';
import { startupBanner, type StartupFacts } from './banner';

const hub: StartupFacts = {
  httpUrl: 'http://127.0.0.1:18180',
  mqttUrl: 'mqtt://127.0.0.1:1883',
  embeddedBroker: true,
  root: '/srv/homelab',
  hostsDir: '/srv/hosts',
  describedNodes: ['nas', 'pi'],
  credentialsFile: '/srv/homelab/auth/initial-credentials.json',
};
const agent = { node: 'pi', dockerSocket: '/var/run/docker.sock', dockerReachable: true };
const nextOf = (text: string) =>
  text
    .split('Next:\n')[1]!
    .trim()
    .split('\n')
    .map((l) => l.trim());

describe('startupBanner', () => {
  it('says what runs where: UI with where the password is, broker, agent, data and the described nodes', () => {
    const text = startupBanner({ ...hub, agent });
    expect(text).toContain("UI and API     http://127.0.0.1:18180   sign in as 'admin', password in /srv/homelab/auth/initial-credentials.json");
    expect(text).toContain('MQTT           mqtt://127.0.0.1:1883 (embedded broker)');
    expect(text).toContain("agent          'pi', Docker at /var/run/docker.sock");
    expect(text).toContain('desired state  /srv/hosts: nas, pi');
  });

  it.each([
    ['everything in place', { ...hub, agent }, [/^- Open http:\/\/127\.0\.0\.1:18180/]],
    ['Docker silent', { ...hub, agent: { ...agent, dockerReachable: false } }, [/Docker does not answer at \/var\/run\/docker\.sock: start it/, /Open/]],
    [
      'this machine undescribed',
      { ...hub, describedNodes: ['nas'], agent },
      [
        /'pi'\) has no \/srv\/hosts\/pi\/services\.yaml yet: draft it from what runs with 'npx homelab adopt --node pi' .* http:\/\/127\.0\.0\.1:18180\/nodes\/pi\/adopt/,
        /Open/,
      ],
    ],
    ['a hub alone', { ...hub, embeddedBroker: false }, [/homelab nodes add <name>/, /Open/]],
  ] as const)('names the next step, the first thing missing first: %s', (_, facts, expected) => {
    const next = nextOf(startupBanner(facts));
    expect(next).toHaveLength(expected.length);
    next.forEach((line, i) => expect(line).toMatch(expected[i]!));
  });

  it('says no node is described yet, and leaves the password out when no file holds it', () => {
    const text = startupBanner({ ...hub, describedNodes: [], credentialsFile: null });
    expect(text).toContain('/srv/hosts: no node described yet');
    expect(text).toContain("sign in as 'admin'\n");
  });
});
