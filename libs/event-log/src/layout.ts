import path from 'node:path';
import { HUB_STREAM, NAME_PATTERN } from '@homelab/contracts';

/**
 * On-disk layout of the log: `<root>/events/YYYY-MM-DD/<stream>.jsonl`
 * (or `.jsonl.gz` once retention compressed it). Paths inside `events/` are
 * "relative files" like `2026-11-26/piha.jsonl`; they are what a LogPosition holds.
 */

export const EVENTS_DIR = 'events';
export const DATE_DIR_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export type FileKind = 'plain' | 'gz';

export interface LogFileRef {
  date: string;
  stream: string;
  kind: FileKind;
  /** Relative to `events/`, e.g. `2026-11-26/piha.jsonl`. */
  rel: string;
}

/** Stream names reach file paths, so only node names and `_hub` are allowed (no traversal: docs/security.md, "One name pattern"). */
export function isValidStream(stream: string): boolean {
  return stream === HUB_STREAM || NAME_PATTERN.test(stream);
}

export function assertValidStream(stream: string): void {
  if (!isValidStream(stream)) {
    throw new Error(`invalid stream name ${JSON.stringify(stream.slice(0, 80))}: must be "${HUB_STREAM}" or match ${NAME_PATTERN}`);
  }
}

/** UTC date of the hub's receive time: the day directory a record goes to. */
export function utcDate(rx: Date): string {
  return rx.toISOString().slice(0, 10);
}

export function relFile(date: string, stream: string, kind: FileKind = 'plain'): string {
  return `${date}/${stream}.jsonl${kind === 'gz' ? '.gz' : ''}`;
}

export function eventsDir(root: string): string {
  return path.join(root, EVENTS_DIR);
}

export function absFile(root: string, rel: string): string {
  return path.join(root, EVENTS_DIR, rel);
}

/** Parses a file name inside a date directory; null for anything that is not a log file (temp files, junk). */
export function parseLogFileName(date: string, name: string): LogFileRef | null {
  let stream: string;
  let kind: FileKind;
  if (name.endsWith('.jsonl')) {
    stream = name.slice(0, -'.jsonl'.length);
    kind = 'plain';
  } else if (name.endsWith('.jsonl.gz')) {
    stream = name.slice(0, -'.jsonl.gz'.length);
    kind = 'gz';
  } else {
    return null;
  }
  if (!isValidStream(stream)) return null;
  return { date, stream, kind, rel: relFile(date, stream, kind) };
}

/** Parses a LogPosition's file back into its parts; null when it is not a log file path. */
export function parseRelFile(rel: string): LogFileRef | null {
  const slash = rel.indexOf('/');
  if (slash < 0) return null;
  const date = rel.slice(0, slash);
  if (!DATE_DIR_PATTERN.test(date)) return null;
  return parseLogFileName(date, rel.slice(slash + 1));
}
