import { z } from 'zod';
import type { SettingsTable } from '@homelab/contracts';
import { Switch } from '../config';

/** Loopback addresses: the only binds that serve the mirror's page without a token. */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * `homelab mirror --serve` (docs/ui-api.md, "Mirror's page"). Loopback by
 * default; any other address needs a view token, because the page names every
 * node, service and error of the fleet (docs/security.md).
 */
export const MIRROR_VIEW_SETTINGS = {
  serve: {
    flag: 'serve',
    switch: true,
    env: 'HOMELAB_MIRROR_SERVE',
    type: Switch.default(false),
    help: 'also serve a read-only page and /summary of the copy (variable =true)',
  },
  port: {
    flag: 'port',
    arg: '<port>',
    env: 'HOMELAB_MIRROR_PORT',
    type: z.coerce.number().int().min(0).max(65535).default(18181),
    help: "the page's port",
  },
  host: {
    flag: 'host',
    arg: '<address>',
    env: 'HOMELAB_MIRROR_HOST',
    type: z.string().min(1).default('127.0.0.1'),
    help: "the page's address; any but loopback needs --view-token-file",
  },
  viewTokenFile: {
    flag: 'view-token-file',
    arg: '<file>',
    env: 'HOMELAB_MIRROR_VIEW_TOKEN_FILE',
    type: z.string().min(1).optional(),
    help: 'a file holding the token readers give (Bearer, or as the password of the browser prompt)',
  },
} as const satisfies SettingsTable;
