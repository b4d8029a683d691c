// Lint: typescript-eslint's type-unaware recommended rules (fast), plus import rules
// that keep the layers apart, as VS Code's code-layering rule does:
// `electron` only in main/app/, child processes only in main/supervisor/, Koa only
// in main/gateway/. Tests and test support may spawn children (test servers, CLIs).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const LAYERS = {
  electron: {
    paths: ['electron'],
    patterns: [],
    message: 'Only main/app/ may import electron: keep everything else runnable under plain Node.',
  },
  childProcess: {
    paths: ['execa', 'child_process', 'node:child_process'],
    patterns: [],
    message: 'Spawn children only through services.supervisor (main/supervisor/).',
  },
  koa: {
    paths: ['koa', 'koa-body'],
    patterns: ['@koa/*'],
    message: 'Only main/gateway/ may import Koa: domain modules know nothing of HTTP.',
  },
};

/** no-restricted-imports forbidding every layer but the allowed ones. */
function restrictImports(...allowed) {
  const forbidden = Object.entries(LAYERS).filter(([layer]) => !allowed.includes(layer));
  return {
    'no-restricted-imports': [
      'error',
      {
        paths: forbidden.flatMap(([, l]) => l.paths.map((name) => ({ name, message: l.message }))),
        patterns: forbidden.flatMap(([, l]) => l.patterns.map((group) => ({ group: [group], message: l.message }))),
      },
    ],
  };
}

const SOURCES = ['**/*.{ts,tsx,js,mjs,cjs}'];
// Files that may start processes directly: tests, test support, e2e, scripts, benchmarks.
const SPAWNING = ['**/*.test.ts', '**/testing/**', 'e2e/**', 'scripts/**', 'bench/**'];
// A later config object replaces the rule's options entirely, so every combination of
// (folder, may spawn) gets its own entry; the more specific ones come last.
const AREAS = [
  { files: ['main/app/**'], allowed: ['electron'] },
  { files: ['main/supervisor/**'], allowed: ['childProcess'] },
  { files: ['main/gateway/**'], allowed: ['koa'] },
];

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', 'test-results/', 'playwright-report/', 'e2e/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: SOURCES,
    languageOptions: { globals: { ...globals.node } },
    rules: {
      ...restrictImports(),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Generator functions cannot be arrows, so naming `this` is sometimes the clearest way.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  { files: ['renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  ...AREAS.map(({ files, allowed }) => ({ files, rules: restrictImports(...allowed) })),
  { files: SPAWNING, rules: restrictImports('childProcess') },
  // Benchmarks measure the gateway against a bare Koa server.
  { files: ['bench/**'], rules: restrictImports('childProcess', 'koa') },
  ...AREAS.flatMap(({ files, allowed }) =>
    SPAWNING.map((spawning) => ({ files: [[files[0], spawning]], rules: restrictImports(...allowed, 'childProcess') })),
  ),
);
