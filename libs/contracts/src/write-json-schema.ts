// `npm run schema`: regenerates the services.yaml JSON Schema from the zod schema.
import fs from 'node:fs';
import path from 'node:path';
import { SERVICES_SCHEMA_PATH, servicesJsonSchema } from './json-schema';

const target = path.resolve(import.meta.dirname, '../../..', SERVICES_SCHEMA_PATH);
fs.writeFileSync(target, servicesJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
