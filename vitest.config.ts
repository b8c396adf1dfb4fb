import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = ['core', 'models', 'tools', 'agents'];

// Tests run from the TypeScript sources: each `@gatehouse/<x>` (and its `/testing` subpath) resolves to
// `packages/<x>/src`, so no build is needed before `vitest`.
const alias = packages.flatMap((name) => {
  const entries = [{ find: new RegExp(`^@gatehouse/${name}$`), replacement: `${root}packages/${name}/src/index.ts` }];
  const testing = `${root}packages/${name}/src/testing/index.ts`;
  if (existsSync(testing)) entries.push({ find: new RegExp(`^@gatehouse/${name}/testing$`), replacement: testing });
  return entries;
});
// The Redis store is a subpath of its own, so core keeps no hard dependency on ioredis.
alias.push({ find: /^@gatehouse\/core\/redis$/, replacement: `${root}packages/core/src/redis/index.ts` });

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
