// The agent-only bundle (dist/homelab-agent.mjs, used by the agent image): `homelab agent`
// without the hub's code, and without the parts of dockerode the agent never calls (BuildKit
// sessions over gRPC, Docker over SSH), which would otherwise be loaded at start. Measured with
// 50 containers (docs/benchmarks.md, "Agent: detection latency and footprint"): the full CLI bundle idles at about
// 100 MB RSS, this one far lower.
import { build } from 'esbuild';

/**
 * Node flags the agent runs with (agent.Dockerfile's ENTRYPOINT; the footprint benchmark uses
 * the same): a 1 MB young generation instead of 16 MB keeps the resident size near what the
 * agent actually holds, at the price of more (tiny) scavenges; `--lite-mode` turns off V8's
 * optimizing compiler and its code caches (the agent mostly waits on sockets: about 10 MB less
 * RSS for no measurable CPU at idle or detection latency, docs/benchmarks.md). Lite mode has no
 * WebAssembly either; `--no-expose-wasm` says so, else V8 prints a warning about the conflict at
 * every start.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode', '--no-expose-wasm'];

/** Modules dockerode/docker-modem require at load but the agent never uses: replaced by stubs that throw when used. */
const UNUSED = ['@grpc/grpc-js', '@grpc/proto-loader', 'ssh2'];

const stubUnused = {
  name: 'stub-unused',
  setup(b) {
    const filter = new RegExp(`^(${UNUSED.map((u) => u.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (a) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${a.path} is not part of the agent bundle`)}); };\nmodule.exports = new Proxy({}, { get: () => fail });\n`,
      loader: 'js',
    }));
  },
};

/** CommonJS dependencies expect these in scope. */
export const CJS_BANNER = [
  "import { createRequire as __hlCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hlFileURLToPath } from 'node:url';",
  "import { dirname as __hlDirname } from 'node:path';",
  'const require = __hlCreateRequire(import.meta.url);',
  'const __filename = __hlFileURLToPath(import.meta.url);',
  'const __dirname = __hlDirname(__filename);',
].join('\n');

export async function buildAgentBundle(outfile = 'dist/homelab-agent.mjs', cwd = process.cwd()) {
  await build({
    absWorkingDir: cwd,
    entryPoints: ['apps/cli/src/agent-main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['cpu-features', '*.node'],
    plugins: [stubUnused],
    // No comments and ASCII only: V8 keeps the whole source text in memory, and one non-ASCII
    // character in a comment would make it a two-byte string (twice the size).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    charset: 'ascii',
    banner: { js: CJS_BANNER },
    logLevel: 'warning',
  });
  return outfile;
}
