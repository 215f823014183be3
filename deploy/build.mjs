// Bundles the `homelab` command into one ESM file for the container images
// (dist/homelab.mjs). Native optional add-ons of ssh2 (pulled in by dockerode)
// stay external: ssh2 falls back to pure JS when they are absent.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build, transformSync } from 'esbuild';

// The UI's browser script (type-checked TypeScript) goes into the bundle compiled (apps/hub/src/web/assets/app-js.ts).
const appJs = transformSync(fs.readFileSync('apps/hub/src/web/assets/browser/app.ts', 'utf8'), { loader: 'ts', target: 'es2020' }).code;

// Native add-ons (`*.node`) stay external; a JS module whose name ends in `.node`
// (grammY's `./platform.node`, which is platform.node.js) is bundled like any other.
const nativeAddonsExternal = {
  name: 'native-addons-external',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const js = path.join(args.resolveDir, `${args.path}.js`);
      if (args.path.startsWith('.') && fs.existsSync(js)) return { path: js };
      return { path: args.path, external: true };
    });
  },
};

await build({
  entryPoints: ['apps/cli/src/main.ts'],
  plugins: [nativeAddonsExternal],
  // Classes keep their names: node-fetch (grammY's HTTP client) checks a signal by `constructor.name === 'AbortSignal'`.
  keepNames: true,
  define: { HOMELAB_APP_JS: JSON.stringify(appJs) },
  outfile: 'dist/homelab.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // esbuild: `homelab up` from a checkout rebuilds the agent bundle with it (apps/cli/src/agent-launch.mjs), never from here.
  external: ['cpu-features', 'esbuild'],
  // CommonJS dependencies expect these in scope.
  banner: {
    js: [
      "import { createRequire as __hlCreateRequire } from 'node:module';",
      "import { fileURLToPath as __hlFileURLToPath } from 'node:url';",
      "import { dirname as __hlDirname } from 'node:path';",
      'const require = __hlCreateRequire(import.meta.url);',
      'const __filename = __hlFileURLToPath(import.meta.url);',
      'const __dirname = __hlDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});

// The API UI's files (/api/docs) are read from disk, not bundled: they go beside the bundle.
const uiPackage = createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json');
fs.cpSync(path.join(path.dirname(uiPackage), 'static'), 'dist/swagger-ui', { recursive: true });

// The agent image runs the agent-only bundle (deploy/agent-bundle.mjs): a fraction of the memory.
const { buildAgentBundle } = await import('./agent-bundle.mjs');
await buildAgentBundle('dist/homelab-agent.mjs');
