import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, CHANNELS, channelsTo, flagsOf } from './channels';
import { filterOf, isNeverRetained, parseTopic, topicOf, topics, type TopicArgs } from './topics';
import { decode, handlerOf, publish, publishText, type Handlers } from './wire';

const names = (channel: (typeof CHANNEL_NAMES)[number]) =>
  ['piha', 'z2m'].slice(0, CHANNELS[channel].pattern.split('{').length - 1) as TopicArgs<typeof channel>;

describe('topics of the channel table', () => {
  it.each(CHANNEL_NAMES)('builds and parses back the topic of %s', (channel) => {
    const topic = topicOf(channel, ...names(channel));
    expect(topic.startsWith('homelab/v1/nodes/piha/')).toBe(true);
    expect(parseTopic(topic)).toEqual({ channel, node: 'piha', ...(names(channel).length > 1 ? { service: 'z2m' } : {}) });
  });

  it.each([
    ['a wildcard node', 'homelab/v1/nodes/+/events'],
    ['a node named #', 'homelab/v1/nodes/#'],
    ['an unknown channel', 'homelab/v1/nodes/piha/secrets'],
    ['another prefix', 'homelab/v2/nodes/piha/events'],
    ['an extra level', 'homelab/v1/nodes/piha/events/x'],
    ['an upper-case node', 'homelab/v1/nodes/PiHA/events'],
    ['a wildcard service', 'homelab/v1/nodes/piha/services/+/state'],
  ])('parses nothing from %s', (_what, topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('keeps the builders and filters agents and tests use', () => {
    expect(topics.events('piha')).toBe('homelab/v1/nodes/piha/events');
    expect(topics.serviceState('piha', 'z2m')).toBe('homelab/v1/nodes/piha/services/z2m/state');
    expect(topics.allNodes('commands')).toBe('homelab/v1/nodes/+/commands');
    expect(filterOf('serviceState')).toBe('homelab/v1/nodes/+/services/+/state');
  });

  it('subscribes the hub to what agents send and an agent to what the hub sends it, in table order', () => {
    expect(channelsTo('hub')).toEqual(['events', 'results', 'status']);
    expect(channelsTo('node')).toEqual(['desired', 'commands', 'acks']);
  });

  it.each(CHANNEL_NAMES)('says whether %s is never retained, as the table does', (channel) => {
    expect(isNeverRetained(topicOf(channel, ...names(channel)))).toBe(!CHANNELS[channel].retained);
  });

  it('never treats a topic outside the table as never retained', () => {
    expect(isNeverRetained('homelab/v1/test/ping')).toBe(false);
  });
});

describe('typed publish and decode', () => {
  it('publishes on the channel topic with its QoS and retain flag', async () => {
    const sent: unknown[] = [];
    const link = { publish: async (topic: string, payload: string, opts: object) => void sent.push({ topic, payload, opts }) };
    await publish(link, 'acks', ['piha'], { node: 'piha', upToSeq: 3 });
    await publishText(link, 'status', ['piha'], '{"x":1}');
    expect(sent).toEqual([
      { topic: 'homelab/v1/nodes/piha/acks', payload: '{"node":"piha","upToSeq":3}', opts: { qos: 1, retain: false } },
      { topic: 'homelab/v1/nodes/piha/status', payload: '{"x":1}', opts: flagsOf('status') },
    ]);
    expect(flagsOf('status')).toEqual({ qos: 1, retain: true });
  });

  it.each([
    ['a payload over the limit', Buffer.alloc(101, 0x20), 'too_large'],
    ['text that is not JSON', Buffer.from('{nope'), 'not_json'],
    ['invalid UTF-8 inside a string', Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 'not_json'],
    ['JSON of the wrong shape', Buffer.from('{"node":"piha","upToSeq":-1}'), 'invalid_schema'],
  ])('refuses %s with a reason', (_what, payload, reason) => {
    expect(decode('acks', payload, 100)).toMatchObject({ ok: false, reason });
  });

  it('decodes a valid message against the channel schema', () => {
    expect(decode('acks', Buffer.from('{"node":"piha","upToSeq":3,"gap":true}'), 100)).toEqual({ ok: true, data: { node: 'piha', upToSeq: 3, gap: true } });
  });

  it('finds the handler of a channel the party receives, and none for the others', () => {
    const handlers: Handlers<'node', string> = { desired: () => 'desired', commands: () => 'commands', acks: () => 'acks' };
    expect(handlerOf(handlers, { channel: 'acks', node: 'piha' })?.({ channel: 'acks', node: 'piha' }, Buffer.alloc(0), '')).toBe('acks');
    expect(handlerOf(handlers, { channel: 'events', node: 'piha' })).toBeUndefined();
  });
});
