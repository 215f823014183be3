#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); container images ship a bundled build instead.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
