import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldList, MQTT_DOC_PATH, withPayloadFields } from './payload-docs';

describe('MQTT payload fields in docs/mqtt.md', () => {
  it('are the fields of the zod schemas (run `npm run schema` when this fails)', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../..', MQTT_DOC_PATH), 'utf8');
    expect(doc).toBe(withPayloadFields(doc));
  });

  it('lists the fields in schema order and marks the optional ones', () => {
    expect(fieldList(z.object({ a: z.string(), b: z.number().optional(), c: z.boolean().default(false) }))).toBe('{a, b?, c?}');
  });
});
