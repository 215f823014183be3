import { HOMELAB_VERSION } from '@homelab/contracts';

/** What prints the version as the first argument; no command of homelab has a verbose flag for `-v` to clash with. */
export const VERSION_FLAGS: readonly string[] = ['--version', '-v', '-V', 'version'];

/** Prints HOMELAB_VERSION when `argv` asks for it; the exit code then, else null. */
export function printVersionIfAsked(argv: readonly string[]): number | null {
  if (!VERSION_FLAGS.includes(argv[0] ?? '')) return null;
  console.log(HOMELAB_VERSION);
  return 0;
}
