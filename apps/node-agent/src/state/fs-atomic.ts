import fs from 'node:fs/promises';
import * as durable from '@homelab/durable-fs';
import type { z } from 'zod';
import { AgentError } from '../errors';

export { fsyncDir, type JsonFileResult } from '@homelab/durable-fs';

/** Crash-safe replace (libs/durable-fs); the agent's state files are its own (0600), failures are `io_failed`. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  try {
    await durable.writeFileAtomic(file, data, { mode: 0o600 });
  } catch (err) {
    throw new AgentError('io_failed', `could not write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

/** Reads and validates one JSON state file; a missing file and a bad one are told apart, never thrown. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<durable.JsonFileResult<z.infer<S>>> {
  try {
    return await durable.readJsonFile(file, schema);
  } catch (err) {
    throw new AgentError('io_failed', `could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
}
