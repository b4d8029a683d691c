#!/usr/bin/env node
// `symphony-gateway` (package.json "bin"): the built CLI (dist/main/cli.js) when there is
// a build, else the TypeScript source through tsx, so a fresh checkout works before
// `npm run build`. Either way the CLI reads process.argv itself.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main/cli.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../main/cli.ts', import.meta.url).href);
}
