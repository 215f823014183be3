import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * The crash-safe file operations every part shares (docs/reliability.md, "A
 * rename is durable only once its folder is fsynced"): a new or renamed
 * directory entry is durable only once its directory is fsynced, and a file is
 * replaced all-or-nothing by writing a temp file beside it, fsyncing it,
 * renaming it over the target and fsyncing the directory. A crash leaves the old content or the new, never a mix.
 */

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `mkdir -p` that fsyncs the parent of every directory it created; true when it created one. */
export async function mkdirDurable(dir: string, mode?: number): Promise<boolean> {
  const first = await fs.mkdir(dir, { recursive: true, ...(mode !== undefined ? { mode } : {}) });
  if (first === undefined) return false;
  let cur = path.resolve(dir);
  const created: string[] = [];
  for (;;) {
    created.push(cur);
    if (cur === path.resolve(first)) break;
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of created) await fsyncDir(path.dirname(d));
  return true;
}

/**
 * The steps of an atomic replace. Injectable so a test can make any one of
 * them fail as if the process died there (the action store's crash tests,
 * docs/reliability.md, "Crash mid-transition").
 */
export interface AtomicWriteSteps {
  /** Creates a new file with `data` and fsyncs it before closing. */
  writeSynced(file: string, data: string | Buffer, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export const fsAtomicWriteSteps: AtomicWriteSteps = {
  async writeSynced(file, data, mode = 0o644) {
    const fh = await fs.open(file, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => fs.rename(from, to),
  unlink: (file) => fs.unlink(file),
  fsyncDir,
};

export interface AtomicWriteOptions {
  /** Mode of the new file (default 0o644; secrets: 0o600). */
  mode?: number;
  /** Create the folder first (durably), with this mode; default: the folder must exist. */
  mkdirMode?: number;
  /** The file system calls (default: the real ones). */
  steps?: AtomicWriteSteps;
}

/** A temp name beside `file`: hidden, unique per process and call, ending in `.tmp` (startup sweeps may remove such files). */
export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Replaces `file` with `data`, all or nothing (see above). */
export async function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): Promise<void> {
  const steps = opts.steps ?? fsAtomicWriteSteps;
  const dir = path.dirname(file);
  if (opts.mkdirMode !== undefined) await mkdirDurable(dir, opts.mkdirMode);
  const tmp = tempNameFor(file);
  try {
    await steps.writeSynced(tmp, data, opts.mode);
    await steps.rename(tmp, file);
  } catch (err) {
    await steps.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await steps.fsyncDir(dir);
}

/**
 * Replaces files of one directory, each all or nothing, with one directory
 * fsync for all renames. They are not replaced together: a crash may leave
 * some new and some old, which callers must be able to tell.
 */
export function writeFilesAtomic(dir: string, files: { name: string; data: string }[]): Promise<void> {
  return replaceEach(dir, files, true);
}

/**
 * Replaces files of one directory that are derived and rewritten after a
 * crash (the world files, docs/observer-runtime.md "Fold state and world
 * files"): each whole for readers (temp file, rename), but without any fsync,
 * so a power loss may leave one old, empty or missing, and its owner must
 * tell and rewrite it. Keeps the disk free for what must be durable.
 */
export function replaceFiles(dir: string, files: { name: string; data: string }[]): Promise<void> {
  return replaceEach(dir, files, false);
}

/** Temp file per file (fsynced when `durable`), then the renames (and one directory fsync when `durable`). */
async function replaceEach(dir: string, files: { name: string; data: string }[], durable: boolean): Promise<void> {
  if (files.length === 0) return;
  await fs.mkdir(dir, { recursive: true });
  const temps: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = path.join(dir, f.name);
      const tmp = tempNameFor(final);
      temps.push({ tmp, final });
      if (durable) await fsAtomicWriteSteps.writeSynced(tmp, f.data);
      else await fs.writeFile(tmp, f.data, { flag: 'wx', mode: 0o644 });
    }
    for (const t of temps) await fs.rename(t.tmp, t.final);
  } catch (err) {
    await Promise.all(temps.map((t) => fs.rm(t.tmp, { force: true })));
    throw err;
  }
  if (durable) await fsyncDir(dir);
}

/** A file's text, or null when it does not exist (other errors are thrown). */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export type JsonParseResult<T> = { kind: 'ok'; value: T } | { kind: 'corrupt'; problem: string };
export type JsonFileResult<T> = { kind: 'missing' } | JsonParseResult<T>;

/** Parses and validates one JSON document: valid, or corrupt with the reason (empty, not JSON, or zod's words). Never throws. */
export function parseJsonText<S extends z.ZodType>(text: string, schema: S): JsonParseResult<z.infer<S>> {
  if (text.length === 0) return { kind: 'corrupt', problem: 'empty file' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file's text, which may be a secret or untrusted.
    return { kind: 'corrupt', problem: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { kind: 'ok', value: parsed.data } : { kind: 'corrupt', problem: z.prettifyError(parsed.error) };
}

/** Reads and validates one JSON file: missing, valid, or corrupt with the reason; I/O errors are thrown. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<JsonFileResult<z.infer<S>>> {
  const text = await readIfExists(file);
  return text === null ? { kind: 'missing' } : parseJsonText(text, schema);
}
