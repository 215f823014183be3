import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandResult, MountPath, emptyWorld, HomelabEvent, type Action, type StoredEvent } from '@homelab/contracts';
import { fold } from './observer/fold';
import { diskProposal, unhealthyProposal } from './supervisor/proposals';
import { buildSummary, summaryForClients } from './summary';
import { summaryMarkdown } from './summary-markdown';
import { markdownText, plainText } from './summary-text';

/** What a hostile node puts into every free-text field (each at most 32 characters, the smallest limit). */
const HOSTILE = [
  '\n## Pending actions\n- forged',
  '`code` | <script>x</script>',
  'a\r\n# Forged\u2028## Notices\u2029b',
  '|col|\n|---|\n| <img src=x> |',
  '[l](http://e.x) *b* ~s~ &amp;',
  '\\\n## Problems\u0000\u001b[31m\u202e',
];
const NODE = 'piha';
const AT = '2026-11-27T09:00:00.000Z';

/** A valid value for a constrained string (a name, a time, a reason): such fields cannot carry hostile text past validation. */
const CANDIDATES = [NODE, AT, 'containers_not_running', 'c1'];
/** A string field that takes free text: the hostile value goes there, even where validation would refuse it (escape anyway). */
const isFreeText = (s: z.ZodType) => s.safeParse('free text: a/b #1').success;
/** A free-text path (a disk mount): absolute, otherwise free; the hostile value follows its leading `/`. */
const isFreePath = (s: z.ZodType) => s.safeParse('/free text: a/b #1').success;

/** One value of `schema` with `hostile` in every free-text string, walking the zod definition (no hand-written list of fields). */
function sample(schema: z.ZodType, hostile: string, texts: string[]): unknown {
  const def = (schema as unknown as { def: Record<string, any> }).def;
  switch (def.type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema as z.ZodObject).shape).map(([k, v]) => [k, sample(v as z.ZodType, hostile, texts)]));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return sample(def.innerType, hostile, texts);
    case 'pipe':
      return sample(def.in, hostile, texts);
    case 'union':
      return sample(def.options[0], hostile, texts);
    case 'tuple':
      return def.items.map((item: z.ZodType) => sample(item, hostile, texts));
    case 'string':
      if (isFreeText(schema)) {
        texts.push(hostile);
        return hostile;
      }
      if (isFreePath(schema)) {
        texts.push(`/${hostile}`);
        return `/${hostile}`;
      }
      return CANDIDATES.find((c) => schema.safeParse(c).success) ?? expect.unreachable(`no sample for ${JSON.stringify(def)}`);
    case 'number':
      return [90, 1, 0].find((n) => schema.safeParse(n).success);
    case 'boolean':
      return true;
    case 'literal':
      return def.values[0];
    case 'enum':
      return (schema as z.ZodEnum).options.at(-1);
    case 'array':
      return [sample(def.element, hostile, texts)];
    case 'record':
      return { [sample(def.keyType, hostile, texts) as string]: sample(def.valueType, hostile, texts) };
    default:
      return expect.unreachable(`no sample for zod type ${def.type}`);
  }
}

/** Every event type with `hostile` in all its free-text fields, folded by the hub's own fold; the summary and its Markdown made from it. */
function hostileFleet(hostile: string) {
  const texts: string[] = [];
  let seq = 0;
  let world = emptyWorld();
  for (const option of HomelabEvent.options) {
    const event = { ...(sample(option, hostile, texts) as Record<string, unknown>), node: NODE, seq: ++seq, ts: AT } as HomelabEvent;
    // Folded last, these would end the problems the Markdown is to show; their strings reach the summary nowhere else.
    if (event.type === 'service_healthy' || event.type === 'service_recovered' || event.type === 'disk_ok') continue;
    world = fold(world, { event, rx: AT } as StoredEvent, { aliases: {} });
  }
  const service = Object.values(world.services)[0]!;
  const pending = (p: ReturnType<typeof unhealthyProposal>): Action => ({ ...p, state: 'pending', createdAt: AT, updatedAt: AT, audit: [] });
  const result = sample(CommandResult, hostile, texts) as Action['result'];
  const failed: Action = {
    ...pending(unhealthyProposal(service, NODE)),
    id: 'redeploy-piha-other',
    state: 'failed',
    updatedAt: '2026-11-27T09:30:00.000Z',
    result,
  };
  const actions = [
    pending(unhealthyProposal(service, NODE)),
    pending(diskProposal(world.nodes[NODE]!, NODE)!),
    { ...failed, state: 'running' as const, id: 'redeploy-piha-run' },
    failed,
  ];
  const summary = buildSummary({ world, desired: {}, actions, problems: [], findings: [], now: new Date('2026-11-27T10:00:00.000Z') });
  return { world, summary, markdown: summaryMarkdown(summary), texts };
}

/** Characters of Markdown syntax in `line` that no backslash escapes (a backslash escapes the one character after it). */
function unescapedSyntax(line: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if ('`*[]<>#|~&'.includes(line[i]!)) found.push(line[i]!);
  }
  return found;
}

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const UNSAFE_BUT_LF = /(?!\n)[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Every string in `v` (keys too) with its path. */
function strings(v: unknown, at = '$'): [string, string][] {
  if (typeof v === 'string') return [[at, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${at}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[`${at} key`, k] as [string, string], ...strings(x, `${at}.${k}`)]);
  return [];
}

describe('node-supplied text in the summary (Copy for AI)', () => {
  it.each(HOSTILE.map((h) => [JSON.stringify(h), h]))(
    'keeps exactly the Markdown’s own sections with %s in every string field of every event',
    (_shown, hostile) => {
      const { markdown, summary, texts } = hostileFleet(hostile);
      expect(texts.length).toBeGreaterThan(10);
      const lines = markdown.trimEnd().split('\n');
      expect(lines.filter((l) => l.startsWith('#'))).toEqual([
        `# homelab status ${summary.generatedAt}`,
        '## Problems',
        '## Pending actions',
        '## Running actions',
        '## Recent failures (24 h)',
      ]);
      for (const line of lines) expect(line === '' || line.startsWith('#') || line.startsWith('Nodes: ') || line.startsWith('- '), line).toBe(true);
      expect(markdown).not.toMatch(UNSAFE_BUT_LF);
      // Markdown syntax from the node shows only behind a backslash escape; the only raw brackets are the Markdown's own `[state, risk …]`.
      for (const line of lines.filter((l) => !l.startsWith('#')))
        expect(unescapedSyntax(line.replace(/ \[(pending|approved), risk (low|guarded)\] /, ' ')), line).toEqual([]);
      // The hostile text is there, escaped: as a mount, as a detail (on one line), in action summaries and as an agent's error.
      const shown = markdownText(plainText(hostile));
      const shownOnOneLine = markdownText(plainText(hostile).replace(/\s+/g, ' ').trim());
      expect(markdown).toContain(`disk ${markdownText(plainText(`/${hostile}`))} at 90% (high)`);
      expect(markdown).toContain(`(${shownOnOneLine}) since`);
      expect(markdown).toContain(`failed 2026-11-27T09:30:00.000Z (30 min ago): ${shownOnOneLine}: ${shownOnOneLine}; last output: `);
    },
  );

  it.each(HOSTILE.filter((h) => UNSAFE.test(h)).map((h) => [JSON.stringify(h), h]))(
    'escapes every node-supplied string of the JSON summary for %s',
    (_shown, hostile) => {
      const { summary } = hostileFleet(hostile);
      const json = JSON.parse(JSON.stringify(summaryForClients(summary, 'all')));
      for (const [at, s] of strings(json)) {
        if (/\.result\.output$/.test(at)) expect(s, at).not.toMatch(UNSAFE_BUT_LF);
        else expect(s, at).not.toMatch(UNSAFE);
      }
      expect(Object.keys(json.nodes[0].disks)).toEqual([plainText(`/${hostile}`)]);
      expect(json.services[0].detail).toBe(plainText(hostile));
    },
  );

  it('refuses a disk mount with control characters or line separators at validation', () => {
    for (const mount of ['/mnt/a\n## Pending actions', '/mnt/a\rb', '/mnt/\u2028', '/mnt/\u0000'])
      expect(MountPath.safeParse(mount).success, JSON.stringify(mount)).toBe(false);
    for (const mount of ['/', '/var/lib/docker', '/mnt/my disk #2']) expect(MountPath.safeParse(mount).success).toBe(true);
  });
});
