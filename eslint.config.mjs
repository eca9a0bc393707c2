// ESLint flat config (ESLint 9). typescript-eslint `recommended` (not type-checked, so it stays fast);
// formatting is Prettier's job, so eslint-config-prettier comes last and turns off stylistic rules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const TS_FILES = ['src/**/*.ts', 'resolvers/**/*.ts', 'entities/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'];

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'coverage/', '.data/', 'src/generated/']),
  // Stale eslint-disable comments fail the lint instead of piling up.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests and benchmarks poke at loose payloads; product code (src/, resolvers/, entities/) keeps `no-explicit-any` as an error.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tool config files at the root (jest.config.js, .dependency-cruiser.cjs, this file) are plain Node scripts.
    files: ['**/*.{js,cjs,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      globals: { module: 'writable', require: 'readonly', exports: 'writable', __dirname: 'readonly', __filename: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
  },
  prettier,
);
