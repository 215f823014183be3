import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The script compiled when the command is bundled (deploy/build.mjs defines it); absent when run from source. */
declare const HOMELAB_APP_JS: string | undefined;

/** The browser script's source: a type-checked TypeScript file (browser/tsconfig.json, `npm run typecheck`). */
export const APP_TS_FILE = path.join(import.meta.dirname, 'browser', 'app.ts');

/** Types stripped by esbuild (tsx's own compiler, so present wherever the hub runs from source). */
export function compileAppJs(source: string = fs.readFileSync(APP_TS_FILE, 'utf8')): string {
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return esbuild.transformSync(source, { loader: 'ts', target: 'es2020' }).code;
}

/** /assets/app.js. */
export const APP_JS: string = typeof HOMELAB_APP_JS === 'string' ? HOMELAB_APP_JS : compileAppJs();
