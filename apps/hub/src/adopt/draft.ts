import { createHash } from 'node:crypto';
import { createPatch } from 'diff';
import { Document, isMap, Pair, parseDocument, YAMLMap, type Scalar } from 'yaml';
import { ComposeFilePath, NAME_PATTERN, type AdoptDraftView, type AdoptedService, type UnmanagedContainer } from '@homelab/contracts';
import { parseHostServicesText } from '../desired/load-desired';

/** One service the draft adds (or, with force, puts in place of the entry of the same name). */
type DraftedService = AdoptedService;

export interface DraftInput {
  node: string;
  /** The node's unmanaged containers from the world (latest node_inventory). */
  unmanaged: readonly UnmanagedContainer[];
  /** The current file's text; null when there is none. */
  current: string | null;
  /** Replace same-named services and an invalid current file (`homelab adopt --force`). */
  force: boolean;
}

export const revisionOf = (text: string | null): string => (text === null ? 'none' : createHash('sha256').update(text).digest('hex').slice(0, 16));

/** A name that fits NAME_PATTERN: lowercase, other characters as `-`, at most `max` characters; '' when nothing is left. */
export function slugName(raw: string, max = 63): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .slice(0, max)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}

interface Group {
  key: string;
  /** Name candidates in order of preference. */
  candidates: string[];
  containers: UnmanagedContainer[];
}

/** Compose containers by project/service, every other container on its own; sorted by key so names come out the same every time. */
function groupContainers(unmanaged: readonly UnmanagedContainer[], skipped: AdoptDraftView['skipped']): Group[] {
  const groups = new Map<string, Group>();
  for (const c of unmanaged) {
    if (c.adopt === false) {
      skipped.push({ container: c.name, reason: 'labelled homelab.adopt=false' });
      continue;
    }
    const k = c.compose;
    const key = k ? `compose:${k.project}/${k.service}` : `container:${c.name}`;
    const candidates = k ? [slugName(k.service), slugName(`${k.project}-${k.service}`)] : [slugName(c.name)];
    const g = groups.get(key) ?? { key, candidates: candidates.filter((n) => n !== ''), containers: [] };
    g.containers.push(c);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The first free candidate, else the first one (or `service`) with -2, -3, … */
function freeName(candidates: string[], taken: Set<string>): string {
  for (const c of candidates) if (!taken.has(c)) return c;
  const base = candidates[0] ?? 'service';
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const name = `${base.slice(0, 63 - suffix.length).replace(/[^a-z0-9]+$/, '')}${suffix}`;
    if (!taken.has(name)) return name;
  }
}

function composeOf(name: string, c: UnmanagedContainer): Pick<DraftedService, 'compose' | 'composeMissing'> {
  const k = c.compose;
  if (!k) return {};
  if (!NAME_PATTERN.test(k.project)) return { composeMissing: `compose project ${JSON.stringify(k.project)} is not a valid name` };
  if (!NAME_PATTERN.test(k.service)) return { composeMissing: `compose service ${JSON.stringify(k.service)} is not a valid name` };
  if (!k.configFile) return { composeMissing: 'compose did not label the config file' };
  if (!ComposeFilePath.safeParse(k.configFile).success)
    return { composeMissing: `config file ${JSON.stringify(k.configFile)} is not an absolute .yml/.yaml path` };
  const v2 = k.version !== undefined && !/^1\./.test(k.version);
  return {
    compose: {
      file: k.configFile,
      project: k.project,
      ...(k.service !== name ? { service: k.service } : {}),
      ...(v2 ? { command: 'docker compose' as const } : {}),
    },
  };
}

function draftServices(groups: Group[], taken: Set<string>): DraftedService[] {
  const out: DraftedService[] = [];
  for (const g of groups) {
    const name = freeName(g.candidates, taken);
    taken.add(name);
    const first = g.containers[0]!;
    out.push({
      name,
      containers: g.containers.map((c) => c.name).sort(),
      ...composeOf(name, first),
      healthcheck: g.containers.some((c) => c.healthcheck === true),
      ...(first.image ? { image: first.image } : {}),
    });
  }
  return out;
}

/** The comment above a drafted service: what was seen, and what the operator may want to add (docs/services-yaml.md). */
function commentOf(s: DraftedService): string {
  const lines = [s.image ? ` adopted: image ${oneLine(s.image)}` : ' adopted'];
  lines.push(
    s.healthcheck
      ? ' healthcheck: defined in the image or compose file; the agent watches it'
      : ' healthcheck: none seen; only the running state is watched (add a probe for more)',
  );
  if (s.composeMissing) lines.push(` no compose block: ${oneLine(s.composeMissing)}; redeploy cannot recreate it`);
  return lines.join('\n');
}

/** Text from a node inside a comment: no line break or control character may end the comment early. */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');

function specOf(s: DraftedService): Record<string, unknown> {
  const single = s.containers.length === 1 && s.containers[0] === s.name;
  return { ...(single ? {} : { containers: s.containers }), ...(s.compose ? { compose: s.compose } : {}) };
}

const keyOf = (p: Pair): string => String((p.key as Scalar | undefined)?.value ?? p.key);

/** The drafted services as block YAML entries with their comments, indented by `indent`. */
function entriesText(added: DraftedService[], indent: string): string {
  const doc = new Document({});
  const map = doc.contents as YAMLMap;
  for (const s of added) map.items.push(serviceEntry(doc, s));
  return doc
    .toString({ lineWidth: 0 })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => indent + l)
    .join('\n')
    .concat('\n');
}

function serviceEntry(doc: Document, s: DraftedService): Pair {
  const key = doc.createNode(s.name);
  key.commentBefore = commentOf(s);
  return new Pair(key, doc.createNode(specOf(s)));
}

/**
 * Adds to the current text without touching a byte of it: the new entries go
 * after the last one of a block `services:` map, in place of an empty
 * `services: {}`, or under a `services:` added at the end. Undefined when the
 * file has another shape (a flow map with entries); it is then re-rendered.
 */
function mergedText(doc: Document, current: string | null, added: DraftedService[], noReplacement: boolean): string | undefined {
  if (current === null || !noReplacement || doc.contents === null) return undefined;
  if (added.length === 0) return current;
  const text = current.endsWith('\n') ? current : `${current}\n`;
  const map = doc.get('services', true);
  if (isMap(map) && !map.flow && map.items.length > 0) {
    const first = map.items[0]!.key as Scalar;
    const start = first.range?.[0];
    const last = map.items[map.items.length - 1]!;
    const end = (last.value as Scalar | null)?.range?.[2] ?? (last.key as Scalar).range?.[2];
    if (start === undefined || end === undefined) return undefined;
    const indent = text.slice(text.lastIndexOf('\n', start - 1) + 1, start);
    if (!/^ +$/.test(indent)) return undefined;
    let at = end;
    if (at > 0 && text[at - 1] !== '\n') {
      const nl = text.indexOf('\n', at);
      at = nl < 0 ? text.length : nl + 1;
    }
    return text.slice(0, at) + entriesText(added, indent) + text.slice(at);
  }
  const emptyFlow = isMap(map) && map.flow === true && map.items.length === 0;
  if (!doc.has('services')) return `${text}services:\n${entriesText(added, '  ')}`;
  if (!emptyFlow) return undefined;
  // `services: {}` or `services:`: the `{}` goes, the entries follow on the lines after the key's.
  const pair = (doc.contents as YAMLMap).items.find((p) => keyOf(p) === 'services');
  const keyEnd = (pair?.key as Scalar | undefined)?.range?.[1];
  if (keyEnd === undefined) return undefined;
  const cut = (map as YAMLMap).range;
  if (!cut) return undefined;
  const body = text.slice(0, cut[0]).replace(/[ \t]+$/, '') + text.slice(cut[1]);
  const lineEnd = body.indexOf('\n', keyEnd);
  return `${body.slice(0, lineEnd + 1)}${entriesText(added, '  ')}${body.slice(lineEnd + 1)}`;
}

/** The whole document rendered again: a fresh draft, a replacement (force), or a shape mergedText does not edit in place. */
function rendered(doc: Document, added: DraftedService[]): string {
  let map = doc.get('services', true);
  if (!isMap(map)) {
    map = new YAMLMap();
    doc.set('services', map);
  }
  const services = map as YAMLMap;
  services.flow = false;
  for (const s of added) {
    const entry = serviceEntry(doc, s);
    const at = services.items.findIndex((p) => keyOf(p) === s.name);
    if (at >= 0) services.items[at] = entry;
    else services.items.push(entry);
  }
  return doc.toString({ lineWidth: 0 });
}

const HEADER = ` Drafted by homelab adopt from the containers running on the node; review it (docs/services-yaml.md).`;

/**
 * Pure: the services.yaml `homelab adopt` proposes for a node. Merging keeps
 * the current file as written (its comments too) and only adds services; with
 * force a drafted service replaces the one of its name, and an invalid current
 * file is replaced by a fresh draft (docs/services-yaml.md, "Adopting what runs").
 */
export function draftServicesFile(input: DraftInput): AdoptDraftView {
  const { node, current, force } = input;
  const file = `hosts/${node}/services.yaml`;
  const skipped: AdoptDraftView['skipped'] = [];
  const base = { node, file, baseRevision: revisionOf(current), skipped };
  let doc: Document | undefined;
  let fromCurrent = false;
  if (current !== null && current.trim() !== '') {
    const check = parseHostServicesText(current, node, file);
    const parsed = parseDocument(current);
    if (check.ok && parsed.errors.length === 0) {
      doc = parsed;
      fromCurrent = true;
    } else if (!force) {
      const why = check.ok
        ? (parsed.errors[0]?.message ?? 'cannot be parsed')
        : check.problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`).join('; ');
      return {
        ...base,
        text: current,
        diff: '',
        added: [],
        replaced: [],
        problems: [],
        refused: `the current ${file} is not valid (${why}); fix it, or replace it with --force`,
      };
    }
  }
  if (!doc) {
    doc = new Document({ node, services: {} });
    doc.commentBefore = HEADER;
  }
  const map = doc.get('services', true);
  const existing = isMap(map) ? map.items.map((p) => keyOf(p)) : [];
  const added = draftServices(groupContainers(input.unmanaged, skipped), force ? new Set() : new Set(existing));
  const replaced = added.filter((s) => existing.includes(s.name)).map((s) => s.name);
  const text = (fromCurrent ? mergedText(doc, current, added, replaced.length === 0) : undefined) ?? rendered(doc, added);
  const check = parseHostServicesText(text, node, file);
  const diff = text === (current ?? '') ? '' : createPatch(file, current ?? '', text, 'current', 'draft');
  return { ...base, text, diff, added, replaced, problems: check.ok ? [] : check.problems };
}
