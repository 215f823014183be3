import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '@homelab/logging';
import { gzChunks, isLineStart, plainChunks } from './chunks';
import { CorruptLineFinder } from './corrupt-lines';
import { mkdirDurable, parseJsonText, writeFileAtomic } from './durable';
import { gzUncompressedSize } from './inventory';
import { absFile, relFile, type LogFileRef } from './layout';
import { QUARANTINE_DIR, QuarantineFile, quarantineDir, quarantineFile } from './quarantine-file';
import { scanLog } from './scan';

export { QUARANTINE_DIR, QuarantineEntry, quarantineDir, quarantineFile, readQuarantine } from './quarantine-file';

/**
 * Quarantine of corrupt lines in the middle of log files (a torn tail is cut
 * at open instead, see tail.ts). The line stays where it is — readers keep
 * skipping it, and nothing is ever deleted — and a copy with its file, offset,
 * reason and raw bytes goes to `events/quarantine/<date>-<stream>.jsonl`, so
 * an operator can see and salvage it. Outside the date directories, so log
 * scans never take it for a stream.
 */
const SCAN_STATE_FILE = 'scan-state.json';
const MAX_LOGGED = 20;

/**
 * How far each file was checked, so an open scans only bytes appended since
 * the last one. Losing it costs one rescan, never a duplicate entry: the
 * quarantine files themselves say what is already in them.
 */
const ScanState = z.object({
  version: z.literal(1),
  files: z.record(
    z.string(),
    z.object({
      kind: z.enum(['plain', 'gz']),
      /** Size on disk when scanned (a gz file never changes: equal size means nothing to do). */
      size: z.number().int().nonnegative(),
      /** Uncompressed offset just after the last complete line checked. */
      scanned: z.number().int().nonnegative(),
    }),
  ),
});
type ScanState = z.infer<typeof ScanState>;
type FileState = ScanState['files'][string];

export interface QuarantineOptions {
  log?: Logger | undefined;
  /** Time written into new entries. */
  now?: () => Date;
}

export interface QuarantineReport {
  filesScanned: number;
  bytesScanned: number;
  /** Lines quarantined by this call (already quarantined ones are not counted again). */
  quarantined: number;
  /** Files that could not be scanned or whose lines could not be copied; retried at the next call. */
  failed: number;
}

/**
 * Scans the log for corrupt lines not yet quarantined and copies each into
 * its quarantine file once. Never throws: a failure is logged and retried at
 * the next call, and the log stays readable either way.
 */
export async function quarantineCorruptLines(root: string, opts: QuarantineOptions = {}): Promise<QuarantineReport> {
  const report: QuarantineReport = { filesScanned: 0, bytesScanned: 0, quarantined: 0, failed: 0 };
  const log = opts.log;
  const ctx: ScanContext = { root, log, now: opts.now ?? (() => new Date()), report, logged: 0 };
  try {
    const before = await loadState(root, log);
    const after: ScanState = { version: 1, files: {} };
    for (const refs of (await scanLog(root)).values()) {
      for (const ref of refs) {
        const key = relFile(ref.date, ref.stream);
        const prev = Object.hasOwn(before.files, key) ? before.files[key] : undefined;
        try {
          after.files[key] = await scanFile(ctx, ref, prev);
        } catch (err) {
          report.failed++;
          if (prev) after.files[key] = prev;
          log?.error({ err, file: `events/${ref.rel}` }, 'could not check event log file for corrupt lines; retrying at the next open');
        }
      }
    }
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      await mkdirDurable(quarantineDir(root));
      await writeFileAtomic(path.join(quarantineDir(root), SCAN_STATE_FILE), `${JSON.stringify(after)}\n`);
    }
  } catch (err) {
    report.failed++;
    log?.error({ err }, 'corrupt-line quarantine failed; the log stays readable (corrupt lines are skipped), retrying at the next open');
  }
  if (ctx.logged > MAX_LOGGED) log?.warn({ quarantined: report.quarantined, dir: quarantineDir(root) }, 'more corrupt lines were quarantined than logged');
  return report;
}

interface ScanContext {
  root: string;
  log: Logger | undefined;
  now: () => Date;
  report: QuarantineReport;
  logged: number;
}

async function loadState(root: string, log: Logger | undefined): Promise<ScanState> {
  const file = path.join(quarantineDir(root), SCAN_STATE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn({ err, file }, 'cannot read quarantine scan state; rescanning the log');
    return { version: 1, files: {} };
  }
  const res = parseJsonText(text, ScanState);
  if (res.kind === 'ok') return res.value;
  // Unusable state means a rescan, which quarantines nothing twice.
  log?.warn({ file }, 'quarantine scan state is invalid; rescanning the log');
  return { version: 1, files: {} };
}

/** Where to start in a file given what an earlier scan checked; null when there is nothing new. */
async function resumeAt(abs: string, ref: LogFileRef, size: number, prev: FileState | undefined): Promise<number | null> {
  if (!prev) return 0;
  if (ref.kind === 'gz') {
    if (prev.kind === 'gz' && prev.size === size) return null; // compressed files never change
    // Made from a plain file scanned to its end (retention verified the copy): nothing new inside.
    if (prev.kind === 'plain' && prev.scanned === prev.size && (await gzUncompressedSize(abs)) === prev.scanned % 2 ** 32) return null;
    return prev.scanned; // same content as the plain file it was made from, same offsets
  }
  if (prev.kind !== 'plain' || prev.scanned > size || !(await isLineStart(abs, prev.scanned))) return 0; // cut back or replaced
  return prev.scanned === size ? null : prev.scanned;
}

async function scanFile(ctx: ScanContext, ref: LogFileRef, prev: FileState | undefined): Promise<FileState> {
  const abs = absFile(ctx.root, ref.rel);
  const size = (await fs.stat(abs)).size;
  const from = await resumeAt(abs, ref, size, prev);
  if (from === null) return { kind: ref.kind, size, scanned: prev!.scanned };
  ctx.report.filesScanned++;
  const finder = new CorruptLineFinder(from);
  const sink = new QuarantineFile(quarantineFile(ctx.root, ref.date, ref.stream), relFile(ref.date, ref.stream));
  // Plain files up to the size seen now; what is appended meanwhile is checked next time.
  const chunks = ref.kind === 'gz' ? gzChunks(abs, from) : plainChunks(abs, from, size);
  for await (const chunk of chunks) {
    const bad = finder.push(chunk);
    if (bad.length > 0) {
      for (const e of await sink.add(bad, ctx.now())) {
        ctx.report.quarantined++;
        if (ctx.logged++ < MAX_LOGGED) {
          ctx.log?.warn(
            {
              file: `events/${ref.rel}`,
              offset: e.offset,
              bytes: e.length,
              reason: e.reason.slice(0, 500),
              quarantine: `events/${QUARANTINE_DIR}/${path.basename(sink.abs)}`,
            },
            'quarantined corrupt event log line; readers skip it',
          );
        }
      }
    }
  }
  ctx.report.bytesScanned += finder.scannedUpTo - from;
  return { kind: ref.kind, size, scanned: finder.scannedUpTo };
}
