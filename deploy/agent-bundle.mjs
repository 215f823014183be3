// The agent-only bundle (dist/homelab-agent.mjs, used by the agent image): `homelab agent`
// without the hub's code, and without the parts of dockerode the agent never calls (BuildKit
// sessions over gRPC, Docker over SSH), which would otherwise be loaded at start. Measured with
// 50 containers (docs/benchmarks.md, "Agent: detection latency and footprint"): the full CLI bundle idles at about
// 100 MB RSS, this one far lower.
// Imported by the checkout's `homelab agent` (apps/cli/src/agent-launch.mjs) for its flags and the
// freshness check: esbuild is loaded only to build, and that runs in a process of its own
// (deploy/build-agent-bundle.mjs), so the launcher never holds the bundler.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Node flags the agent runs with, wherever it is started: agent.Dockerfile's ENTRYPOINT (checked
 * against this list by test/checks/agent-node-flags.test.ts), `homelab agent` and `homelab up` from a
 * checkout (apps/cli/src/agent-launch.mjs), the footprint benchmark: a 1 MB young generation instead of 16 MB keeps the resident size near what the
 * agent actually holds, at the price of more (tiny) scavenges; `--lite-mode` turns off V8's
 * optimizing compiler and its code caches (the agent mostly waits on sockets: about 10 MB less
 * RSS for no measurable CPU at idle or detection latency, docs/benchmarks.md). Lite mode has no
 * WebAssembly either; `--no-expose-wasm` says so, else V8 prints a warning about the conflict at
 * every start.
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode', '--no-expose-wasm'];

/**
 * Modules the agent's dependencies load at start but the agent never uses, replaced by stubs that
 * throw when used (each saves source text V8 keeps, and what the module builds at load;
 * docs/benchmarks.md, "Agent: detection latency and footprint"). dockerode/docker-modem: BuildKit
 * sessions over gRPC and build progress (protobufjs), Docker over SSH. MQTT.js: the WebSocket and
 * SOCKS transports (its ./socks) and worker timers (--mqtt-url takes mqtt:// and mqtts:// only, with no proxy;
 * the timers are Node's own). pino: transports in worker threads (thread-stream; the agent logs to
 * stdout in its own thread, libs/logging).
 */
const UNUSED = ['@grpc/grpc-js', '@grpc/proto-loader', 'ssh2', 'protobufjs', 'ws', 'worker-timers', 'thread-stream'];

/** Imports stubbed only for one importer: [specifier, a part of the importer's path]. dockerode's image builds (tar and gzip of a build context). */
const UNUSED_FROM = [
  ['./socks', '/node_modules/mqtt/'],
  ['tar-fs', '/node_modules/dockerode/'],
  ['zlib', '/node_modules/dockerode/'],
];

const escape = (s) => s.replace(/[/.]/g, '\\$&');

const stubUnused = {
  name: 'stub-unused',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${UNUSED.map(escape).join('|')})$`) }, (a) => ({ path: a.path, namespace: 'stub' }));
    for (const [spec, from] of UNUSED_FROM)
      b.onResolve({ filter: new RegExp(`^${escape(spec)}$`) }, (a) => (a.importer.includes(from) ? { path: a.path, namespace: 'stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (a) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${a.path} is not part of the agent bundle`)}); };\nmodule.exports = new Proxy({}, { get: () => fail });\n`,
      loader: 'js',
    }));
  },
};

/**
 * zod's error messages in every language it ships: the agent uses the default, English, only
 * (zod sets it at load), and the other locales would be built at every start.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js' }));
  },
};

/**
 * readable-stream (three copies: MQTT.js's and bl's v4, docker-modem's v3) is a copy of Node's
 * own streams for browsers and old Nodes, about 290 KB of source built at every start. Both
 * versions answer with Node's `stream` when READABLE_STREAM=disable; this is that answer, always:
 * every export of `stream` (the names both versions export; their users only take those names).
 */
const nodeStreams = {
  name: 'readable-stream-is-node-stream',
  setup(b) {
    b.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'readable-stream', namespace: 'node-stream' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stream' }, () => ({
      contents: "const Stream = require('node:stream');\nmodule.exports = { ...Stream, Stream };\nmodule.exports.default = module.exports;\n",
      loader: 'js',
    }));
  },
};

/** Globals whose methods are not all pure (`Object.assign`, `JSON.parse` of bad text): never marked. */
const NOT_SCHEMAS = new Set(['Object', 'Array', 'JSON', 'Math', 'Number', 'String', 'Promise', 'Reflect', 'Symbol', 'Date', 'Error', 'Buffer', 'Map', 'Set']);

/**
 * The contracts' schemas are top-level `z.…(…)` calls, which a bundler must keep in case they have
 * side effects; they have none, and many of them (the hub's HTTP bodies, world state, summary) the
 * agent never uses. Marks as pure every call chain on `z` or on a schema (a capitalised name) that
 * stands where a value is expected — after `=`, `:`, `(`, `[` or `,` — so that esbuild leaves the
 * unused ones out of the bundle and they are not built at every start. A call at the start of a
 * statement (`Schema.parse(x);`, kept for its throw) is never marked.
 */
export function markSchemaCallsPure(source) {
  return source.replace(/([=:([,]\s*)(z|[A-Z][A-Za-z0-9_]*)(?=\s*\.\s*[A-Za-z_]\w*\s*\()/g, (m, before, name) =>
    name !== 'z' && NOT_SCHEMAS.has(name) ? m : `${before}/* @__PURE__ */ ${name}`,
  );
}

const pureSchemas = {
  name: 'pure-contracts-schemas',
  setup(b) {
    b.onLoad({ filter: /[\\/]libs[\\/]contracts[\\/]src[\\/][^\\/]+\.ts$/ }, async (a) => ({
      contents: markSchemaCallsPure(await fs.promises.readFile(a.path, 'utf8')),
      loader: 'ts',
    }));
  },
};

/** Everything the agent bundle's build does besides bundling; exported for test/checks/agent-bundle.test.ts. */
export const AGENT_BUNDLE_PLUGINS = [stubUnused, englishOnly, nodeStreams, pureSchemas];

/** CommonJS dependencies expect these in scope. */
export const CJS_BANNER = [
  "import { createRequire as __hlCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hlFileURLToPath } from 'node:url';",
  "import { dirname as __hlDirname } from 'node:path';",
  'const require = __hlCreateRequire(import.meta.url);',
  'const __filename = __hlFileURLToPath(import.meta.url);',
  'const __dirname = __hlDirname(__filename);',
].join('\n');

/** The files a bundle was built from, beside it: `homelab agent` rebuilds when one is newer. */
export const inputsFileOf = (outfile) => `${outfile}.inputs.json`;

/**
 * Whether `outfile` was built from the sources as they are now: it exists, and neither this file
 * nor any input listed beside it (esbuild's metafile, node_modules included) changed since; a new
 * import always changes a listed file. Stats a few hundred files: a few ms.
 */
export function agentBundleIsFresh(outfile) {
  try {
    const built = fs.statSync(outfile).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(inputsFileOf(outfile), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    for (const f of [fileURLToPath(import.meta.url), ...inputs]) if (fs.statSync(f).mtimeMs > built) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the bundle into a temporary file and renames it into place, so that an agent starting
 * meanwhile (or a second build racing this one) never reads half a file. The bundle's mtime is
 * set to the build's start: a source saved during the build makes it stale.
 */
export async function buildAgentBundle(outfile = 'dist/homelab-agent.mjs', cwd = fileURLToPath(new URL('..', import.meta.url))) {
  const { build } = await import('esbuild');
  const started = new Date();
  const out = path.resolve(cwd, outfile);
  const tmp = `${out}.${process.pid}.tmp`;
  const result = await build({
    absWorkingDir: cwd,
    entryPoints: ['apps/cli/src/agent-main.ts'],
    outfile: tmp,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['cpu-features', '*.node'],
    plugins: AGENT_BUNDLE_PLUGINS,
    // No comments and ASCII only: V8 keeps the whole source text in memory, and one non-ASCII
    // character in a comment would make it a two-byte string (twice the size).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    charset: 'ascii',
    banner: { js: CJS_BANNER },
    logLevel: 'warning',
  });
  // Absolute paths; `stub:` and other virtual inputs have no file.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((i) => !i.includes(':'))
    .map((i) => path.resolve(cwd, i));
  fs.writeFileSync(`${tmp}.inputs`, JSON.stringify(inputs));
  fs.utimesSync(tmp, started, started);
  fs.renameSync(`${tmp}.inputs`, inputsFileOf(out));
  fs.renameSync(tmp, out);
  return outfile;
}
