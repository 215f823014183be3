// A named import: the bundles (esbuild) then carry this one field of package.json, not the whole file.
import { version as packageVersion } from '../../../package.json';

/**
 * The version of homelab: the `version` of the repository's package.json,
 * declared there once. The bundles of the images carry it inlined (esbuild),
 * so `homelab --version`, GET /healthz, the UI footer, the agent's birth
 * message and the data root's layout.json all say the same (docs/upgrade.md).
 */
export const HOMELAB_VERSION: string = packageVersion;
