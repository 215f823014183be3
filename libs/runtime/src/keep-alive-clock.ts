import type { Clock } from '@homelab/contracts';

/**
 * The system clock whose timers keep the process running (systemClock's do
 * not, so a part's loop never holds a hub or an agent open): for a process
 * whose only work is its loop, such as `homelab mirror`.
 */
export const keepAliveClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
