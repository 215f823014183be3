import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { ensureNodeBaseImage } from '@homelab/testkit';
import { REPO_ROOT } from './stack';

/** The base tarball survives between runs here (node_modules is outside every build context). */
export const BASE_CACHE_DIR = path.join(REPO_ROOT, 'node_modules/.cache/homelab-test');

export const HUB_IMAGE = 'homelab-hub:latest';
export const AGENT_IMAGE = 'homelab-agent:latest';

export interface BuiltImages {
  base: string;
  version: string;
  /** Wall-clock ms of each step (docs/deploy.md "What is tested"). */
  timings: { debootstrapMs: number; baseImportMs: number; hubBuildMs: number; agentBuildMs: number };
  sizes: { hub: number; agent: number; base: number };
}

/** `docker` (the CLI, as an operator runs it) on the test engine. */
export function dockerCli(socket: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      {
        cwd: REPO_ROOT,
        // DOCKER_BUILDKIT=0: the engine's own builder; the CLI sends the context as the
        // operator's `docker build` does, .dockerignore applied.
        env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 20 * 60_000,
      },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr })),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/**
 * Builds both images from the shipped Dockerfiles with the CLI's `docker build` on the test
 * engine, over a local stand-in for the official Node.js base (testkit ensureNodeBaseImage).
 * The build logs go to `logDir`.
 */
export async function buildImages(docker: Docker, socket: string, logDir: string): Promise<BuiltImages> {
  const base = await ensureNodeBaseImage(docker, BASE_CACHE_DIR);
  const version = (JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'apps/cli/package.json'), 'utf8')) as { version: string }).version;
  const build = async (dockerfile: string, tag: string, log: string): Promise<number> => {
    const started = Date.now();
    const args = ['build', '--network', 'host', '-f', dockerfile, '--build-arg', `BASE_IMAGE=${base.tag}`, '--build-arg', `VERSION=${version}`, '-t', tag, '.'];
    try {
      const out = await dockerCli(socket, args);
      await fs.writeFile(path.join(logDir, log), out.stdout + out.stderr);
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      await fs.writeFile(path.join(logDir, log), `${e.stdout ?? ''}${e.stderr ?? ''}`);
      throw new Error(`docker build -f ${dockerfile} failed (${log}): ${(e.stderr ?? e.message).slice(-3000)}`);
    }
    return Date.now() - started;
  };
  await fs.mkdir(logDir, { recursive: true });
  const hubBuildMs = await build('deploy/hub.Dockerfile', HUB_IMAGE, 'image-build-hub.log');
  const agentBuildMs = await build('deploy/agent.Dockerfile', AGENT_IMAGE, 'image-build-agent.log');
  const size = async (tag: string) => ((await docker.getImage(tag).inspect()) as { Size: number }).Size;
  const built: BuiltImages = {
    base: base.tag,
    version,
    timings: { debootstrapMs: base.debootstrapMs, baseImportMs: base.importMs, hubBuildMs, agentBuildMs },
    sizes: { hub: await size(HUB_IMAGE), agent: await size(AGENT_IMAGE), base: await size(base.tag) },
  };
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const t = built.timings;
  console.log(
    `[images] base ${built.base}: mmdebstrap ${t.debootstrapMs} ms, import ${t.baseImportMs} ms, ${mb(built.sizes.base)}; ` +
      `hub build ${t.hubBuildMs} ms, ${mb(built.sizes.hub)}; agent build ${t.agentBuildMs} ms, ${mb(built.sizes.agent)}`,
  );
  return built;
}

/** docker-compose (v1) with one of the shipped compose files, its settings in `env`. */
export function composeWith(file: string, project: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('docker-compose', ['-f', file, '-p', project, ...args], { env, maxBuffer: 16 * 1024 * 1024, timeout: 5 * 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`docker-compose ${args.join(' ')} (${project}): ${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
}

/** The files of the repository's build context as the engine receives it (.dockerignore applied). */
export async function buildContextFiles(socket: string, busyboxImage: string, contextDir = REPO_ROOT): Promise<string[]> {
  const tag = 'homelab-test/context-listing:latest';
  // Dockerfile from stdin: the context is exactly what `docker build` sends for contextDir.
  await dockerCli(socket, ['build', '-q', '-f', '-', '-t', tag, contextDir], { input: `FROM ${busyboxImage}\nCOPY . /context\n` });
  const { stdout } = await dockerCli(socket, ['run', '--rm', '--network', 'none', tag, 'find', '/context', '-type', 'f']);
  await dockerCli(socket, ['rmi', tag]).catch(() => undefined);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => f.slice('/context/'.length));
}
