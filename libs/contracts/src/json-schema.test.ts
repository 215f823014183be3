import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICES_SCHEMA_PATH, servicesJsonSchema } from './json-schema';

describe('services.yaml JSON Schema', () => {
  it('is up to date with the zod schema (run `npm run schema` when this fails)', () => {
    const file = path.resolve(import.meta.dirname, '../../..', SERVICES_SCHEMA_PATH);
    expect(fs.readFileSync(file, 'utf8')).toBe(servicesJsonSchema());
  });

  it('forbids unknown keys so a typo in services.yaml is reported', () => {
    const schema = JSON.parse(servicesJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.services.additionalProperties.additionalProperties).toBe(false);
  });
});
