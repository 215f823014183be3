import type { Action, CleanupItem, ConfigProblem, ContainerObservation, Finding, UnmanagedContainer, WorldNode, WorldService } from '@homelab/contracts';
import { needsEscape as dirty, plainText } from './summary-text';

/**
 * The summary's text fields through plainText (summary-text.ts): every string
 * a node supplies, and the hub's own sentences that quote one (action
 * summaries, findings, config problems). An object with nothing to escape
 * comes back as the same instance: the summary of a big fleet is rebuilt
 * often, and nearly all of its strings are clean.
 */
const t = (s: string) => plainText(s);
const opt = <S extends string | undefined>(s: S): S => (s === undefined ? s : (plainText(s) as S));

/** Drops keys whose value is undefined (an escaped copy must not grow `key: undefined` where the field was absent). */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const dirtyObserved = (c: ContainerObservation) => dirty(c.name) || dirty(c.state) || dirty(c.health);
const dirtyCompose = (k: UnmanagedContainer['compose']) =>
  k !== undefined && (dirty(k.project) || dirty(k.service) || dirty(k.configFile) || dirty(k.workingDir) || dirty(k.version));
const dirtyUnmanaged = (c: UnmanagedContainer) => dirty(c.name) || dirty(c.state) || dirty(c.image) || dirtyCompose(c.compose);
const compose = (k: UnmanagedContainer['compose']) =>
  k && defined({ ...k, project: t(k.project), service: t(k.service), configFile: opt(k.configFile), workingDir: opt(k.workingDir), version: opt(k.version) });
const observed = (c: ContainerObservation): ContainerObservation =>
  dirtyObserved(c) ? defined({ ...c, name: t(c.name), state: t(c.state), health: opt(c.health) }) : c;
const unmanaged = (c: UnmanagedContainer): UnmanagedContainer =>
  dirtyUnmanaged(c) ? defined({ ...c, name: t(c.name), state: t(c.state), image: opt(c.image), compose: compose(c.compose) }) : c;
const cleanupItem = <C extends CleanupItem & { why?: string }>(c: C): C => defined({ ...c, id: t(c.id), name: opt(c.name), why: opt(c.why) });

export function escapeService<S extends WorldService>(s: S): S {
  if (!(dirty(s.reason) || dirty(s.detail) || dirty(s.probe) || dirty(s.lastEventId) || s.problemEventIds.some(dirty) || s.containers?.some(dirtyObserved)))
    return s;
  return defined({
    ...s,
    reason: opt(s.reason),
    detail: opt(s.detail),
    probe: opt(s.probe),
    lastEventId: t(s.lastEventId),
    problemEventIds: s.problemEventIds.map(t),
    containers: s.containers?.map(observed),
  });
}

export function escapeNode<N extends WorldNode>(n: N): N {
  const disks = Object.entries(n.disks);
  if (!(disks.some(([k, d]) => dirty(k) || dirty(d.mount)) || n.unmanaged?.some(dirtyUnmanaged))) return n;
  return defined({
    ...n,
    disks: Object.fromEntries(disks.map(([k, d]) => [t(k), { ...d, mount: t(d.mount) }])),
    unmanaged: n.unmanaged?.map(unmanaged),
  });
}

/** Every string of an action but its command output, which keeps its lines (the pages show it as a block). */
export function escapeAction(a: Action): Action {
  const r = a.result;
  return defined({
    ...a,
    summary: t(a.summary),
    cancelReason: opt(a.cancelReason),
    drift: defined({ ...a.drift, reason: opt(a.drift.reason), eventIds: a.drift.eventIds.map(t) }),
    audit: a.audit.map((e) =>
      defined({ ...e, by: t(e.by), note: opt(e.note), from: e.from && defined({ ip: opt(e.from.ip), userAgent: opt(e.from.userAgent) }) }),
    ),
    result:
      r &&
      defined({
        ...r,
        output: plainText(r.output, { lines: true }),
        error: r.error && { code: t(r.error.code), message: t(r.error.message) },
        cleanup: r.cleanup && { ...r.cleanup, removed: r.cleanup.removed.map(cleanupItem), kept: r.cleanup.kept.map(cleanupItem) },
      }),
    preview: a.preview && { ...a.preview, removed: a.preview.removed.map(cleanupItem), kept: a.preview.kept.map(cleanupItem) },
  });
}

export const escapeFinding = (f: Finding): Finding => (dirty(f.message) ? { ...f, message: t(f.message) } : f);

export const escapeProblem = (c: ConfigProblem): ConfigProblem =>
  dirty(c.file) || dirty(c.path) || dirty(c.message) ? { ...c, file: t(c.file), path: t(c.path), message: t(c.message) } : c;
