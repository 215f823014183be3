import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';

const run = promisify(execFile);

/**
 * How many container events matching `filters` the engine recorded since
 * `since` (Unix seconds): "the operation ran once" is checked against the
 * engine itself, not against what the agent says it did.
 */
export async function countContainerEvents(
  docker: Docker,
  since: number,
  filters: { event: string[]; container?: string[]; label?: string[] },
): Promise<number> {
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = (await docker.getEvents({ since, until, filters: { type: ['container'], ...filters } })) as unknown;
  const text = Buffer.isBuffer(stream) ? stream.toString() : await streamText(stream as NodeJS.ReadableStream);
  return text.split('\n').filter((l) => l.trim()).length;
}

/** docker-compose (v1) on one project of the test engine. */
export function composeOn(socket: string, file: string, project: string): (...args: string[]) => Promise<{ stdout: string; stderr: string }> {
  return (...args) => run('docker-compose', ['-f', file, '-p', project, ...args], { env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
}

/**
 * The head of a services.yaml whose node is in maintenance until 2099: the
 * supervisor neither proposes nor cancels anything, so every action is the test's own.
 */
export function maintenanceHost(node: string, reason = 'the test writes its own actions'): string[] {
  return [`node: ${node}`, 'maintenance:', '  until: "2099-01-01T00:00:00Z"', `  reason: ${reason}`, 'services:'];
}

function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer | string) => (text += c.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}
