import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AgentError } from './errors';

/**
 * Crash-safe replace (RELIABILITY.md, SQLite unixSync): write a temp file in
 * the same folder, fsync it, rename over the target, fsync the folder. A crash
 * leaves either the old or the new content, never a torn file.
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(dir);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new AgentError('io_failed', `could not write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export type JsonFileResult<T> = { kind: 'missing' } | { kind: 'ok'; value: T } | { kind: 'corrupt'; problem: string };

/** Reads and validates one JSON state file; a missing file and a bad one are told apart, never thrown. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<JsonFileResult<z.infer<S>>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new AgentError('io_failed', `could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', problem: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { kind: 'ok', value: parsed.data } : { kind: 'corrupt', problem: z.prettifyError(parsed.error) };
}

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
}
