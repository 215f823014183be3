// `npm run schema`: regenerates the services.yaml JSON Schema and the payload field table of docs/mqtt.md from the zod schemas.
import fs from 'node:fs';
import path from 'node:path';
import { SERVICES_SCHEMA_PATH, servicesJsonSchema } from './json-schema';
import { MQTT_DOC_PATH, withPayloadFields } from './payload-docs';

const repo = path.resolve(import.meta.dirname, '../../..');
const target = path.join(repo, SERVICES_SCHEMA_PATH);
fs.writeFileSync(target, servicesJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
const doc = path.join(repo, MQTT_DOC_PATH);
fs.writeFileSync(doc, withPayloadFields(fs.readFileSync(doc, 'utf8')));
console.log(`wrote ${path.relative(process.cwd(), doc)}`);
