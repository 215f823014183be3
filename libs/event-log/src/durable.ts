// The shared crash-safe file operations (libs/durable-fs), under the names this library has always used.
export { fsyncDir, mkdirDurable, parseJsonText, writeFileAtomic } from '@homelab/durable-fs';
