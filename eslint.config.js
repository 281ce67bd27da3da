import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The core's layers (README, "Design"): main/app/ composes and nothing imports it; the role folders import each
 * other without cycles, the contract and lib; main/contract/ imports only zod; main/lib/ imports nothing of ours.
 * No core file imports electron; main/electron/ is the shell on top.
 */
const ROLES = [
  'access',
  'alerts',
  'api',
  'channels',
  'edge',
  'ingest',
  'monitor',
  'origin',
  'partner',
  'portal',
  'settings',
  'spaces',
  'push',
  'store',
  'transcode',
];
const NO_ELECTRON = {
  name: 'electron',
  message: 'The core has no electron import; put Electron glue in main/electron/.',
};
const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { paths: [NO_ELECTRON], patterns }],
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'release/**',
      'node_modules/**',
      'renderer/dist/**',
      'bench/results/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
        document: 'readonly',
        window: 'readonly',
        navigator: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Sandboxed preloads are CommonJS.
    files: ['preload/**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The core never imports electron: only main/electron/ and preload/ may.
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: restrict([]),
  },
  {
    files: ROLES.map((r) => `main/${r}/**/*.ts`),
    rules: restrict([
      {
        group: ['**/app/*', '**/electron/*'],
        message: 'A role folder does not import main/app/ or the shell.',
      },
    ]),
  },
  {
    files: ['main/contract/**/*.ts'],
    rules: restrict([{ group: ['../*', 'node:*'], message: 'The contract is a leaf: it imports only zod.' }]),
  },
  {
    files: ['main/lib/**/*.ts'],
    rules: restrict([{ group: ['../*'], message: 'main/lib/ imports nothing of ours.' }]),
  },
  {
    files: ['main/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
);
