import { z } from 'zod';
import { HostServicesFile } from './desired';

/** Where the generated JSON Schema of `hosts/<node>/services.yaml` lives (relative to the repository root). */
export const SERVICES_SCHEMA_PATH = 'libs/contracts/services.schema.json';

/**
 * JSON Schema of `services.yaml` for editors (yaml-language-server), generated
 * from the zod schema, which stays the only definition. `npm run schema`
 * rewrites the file; a unit test fails when it is stale.
 */
export function servicesJsonSchema(): string {
  const schema = z.toJSONSchema(HostServicesFile, { io: 'input' });
  return `${JSON.stringify({ ...schema, title: 'homelab hosts/<node>/services.yaml' }, null, 2)}\n`;
}
