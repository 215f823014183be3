import { describe, expect, it } from 'vitest';
import { HUB_CLIENT_ID, identify, mayPublish, maySubscribe } from './acl';

describe('broker ACL', () => {
  const piha = identify('piha', 'piha');
  const inspector = identify('mosquitto_sub/123');

  it.each([
    ['piha publishes its own events', piha, 'homelab/v1/nodes/piha/events', true],
    ['piha publishes its own status', piha, 'homelab/v1/nodes/piha/status', true],
    ['piha publishes its own results', piha, 'homelab/v1/nodes/piha/results', true],
    ['piha publishes as chelsty-ha', piha, 'homelab/v1/nodes/chelsty-ha/events', false],
    ['piha publishes a command to itself', piha, 'homelab/v1/nodes/piha/commands', false],
    ['piha publishes its own desired state', piha, 'homelab/v1/nodes/piha/desired', false],
    ['an inspector publishes anything', inspector, 'homelab/v1/nodes/piha/events', false],
    ['the hub publishes a command', identify(HUB_CLIENT_ID, HUB_CLIENT_ID), 'homelab/v1/nodes/piha/commands', true],
  ])('%s → %s', (_name, id, topic, expected) => {
    expect(mayPublish(id, topic)).toBe(expected);
  });

  it.each([
    ['piha subscribes to its commands', piha, 'homelab/v1/nodes/piha/commands', true],
    ['piha subscribes to its desired state', piha, 'homelab/v1/nodes/piha/desired', true],
    ['piha subscribes to another node commands', piha, 'homelab/v1/nodes/chelsty-ha/commands', false],
    ['piha subscribes to every node with +', piha, 'homelab/v1/nodes/+/commands', false],
    ['piha subscribes to #', piha, '#', false],
    ['anyone subscribes to $SYS', inspector, '$SYS/#', false],
    ['an inspector reads homelab/#', inspector, 'homelab/#', true],
  ])('%s → %s', (_name, id, filter, expected) => {
    expect(maySubscribe(id, filter)).toBe(expected);
  });

  it('never treats an id with wildcards or slashes as a node', () => {
    expect(identify('piha/#', 'piha/#').kind).toBe('inspector');
    expect(identify('pi+ha', 'pi+ha').kind).toBe('inspector');
  });

  it('treats a client whose id differs from its username as a read-only inspector', () => {
    expect(identify('piha', 'chelsty-ha').kind).toBe('inspector');
    expect(identify('piha').kind).toBe('inspector');
    expect(identify(HUB_CLIENT_ID).kind).toBe('inspector');
  });
});
