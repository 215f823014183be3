import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { AGENT_BUNDLE_PLUGINS, CJS_BANNER, markSchemaCallsPure } from '../../deploy/agent-bundle.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Bundles `contents` as the agent bundle is built (its plugins) and returns the code. */
async function bundle(contents: string): Promise<string> {
  const out = await build({
    stdin: { contents, resolveDir: path.join(ROOT, 'apps/node-agent/src'), loader: 'ts' },
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    write: false,
    plugins: AGENT_BUNDLE_PLUGINS,
    banner: { js: CJS_BANNER },
    logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}

const run = (code: string) => execFileSync(process.execPath, ['--input-type=module'], { input: code, encoding: 'utf8' }).trim();

describe('markSchemaCallsPure', () => {
  it.each([
    ['export const A = z.string().min(1);', 'export const A = /* @__PURE__ */ z.string().min(1);'],
    ['export const A = z\n  .string();', 'export const A = /* @__PURE__ */ z\n  .string();'],
    ['const b = { x: Foo.optional(), y: [z.enum(["a"])] };', 'const b = { x: /* @__PURE__ */ Foo.optional(), y: [/* @__PURE__ */ z.enum(["a"])] };'],
    ['Schema.parse(x);', 'Schema.parse(x);'],
    ['const k = Object.keys(b), j = JSON.parse(s);', 'const k = Object.keys(b), j = JSON.parse(s);'],
    ['const t: z.ZodType<X> = y;', 'const t: z.ZodType<X> = y;'],
  ])('%j', (source, marked) => expect(markSchemaCallsPure(source)).toBe(marked));
});

describe('the agent bundle', () => {
  it('leaves out the contracts schemas the agent does not use and keeps those it uses', async () => {
    // world.ts and actions.ts, as the agent imports them: a constant of one, a schema of the other.
    const code = await bundle(
      "import { CLOCK_SKEW_FINDING_MS, Command, NodeHeartbeatEvent } from '@homelab/contracts'; console.log(CLOCK_SKEW_FINDING_MS, Command.safeParse({}).success, NodeHeartbeatEvent.safeParse({}).success);",
    );
    expect(code).toContain('NodeHeartbeatEvent');
    expect(code).toContain('Command');
    expect(code).not.toContain('WorldNodesFile');
    expect(code).not.toContain('ProposeBody');
    expect(run(code)).toBe('2000 false false');
  });

  it("answers readable-stream with Node's own streams", async () => {
    const code = await bundle(
      "import { Duplex, Readable, pipeline } from 'readable-stream'; import stream from 'node:stream'; console.log(Duplex === stream.Duplex && Readable === stream.Readable && pipeline === stream.pipeline);",
    );
    expect(code).not.toContain('_stream_readable');
    expect(run(code)).toBe('true');
  });
});
