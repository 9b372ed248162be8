import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // SWC keeps decorator metadata, which Nest's dependency injection reads.
  plugins: [swc.vite({ module: { type: 'es6' }, jsc: { target: 'es2023' } })],
  resolve: {
    alias: [
      {
        find: /^nestjs-zero-trust\/(audit|client|risk|continuous-access|cerbos)$/,
        replacement: src('./libs/zero-trust/src/$1/index.ts'),
      },
      {
        find: /^nestjs-zero-trust\/testing$/,
        replacement: src('./libs/zero-trust/src/testing/index.ts'),
      },
      {
        find: /^nestjs-zero-trust\/(websockets|graphql)$/,
        replacement: src('./libs/zero-trust/src/transports/$1.ts'),
      },
      {
        find: /^nestjs-zero-trust\/graphql-ws$/,
        replacement: src('./libs/zero-trust/src/transports/graphql-ws.ts'),
      },
      {
        find: /^nestjs-zero-trust\/messages$/,
        replacement: src('./libs/zero-trust/src/transports/index.ts'),
      },
      {
        find: /^nestjs-zero-trust\/throttler$/,
        replacement: src('./libs/zero-trust/src/rate-limit/index.ts'),
      },
      {
        find: /^nestjs-zero-trust\/health$/,
        replacement: src('./libs/zero-trust/src/health/index.ts'),
      },
      {
        find: /^nestjs-zero-trust\/axios$/,
        replacement: src('./libs/zero-trust/src/client/axios/index.ts'),
      },
      { find: /^nestjs-zero-trust$/, replacement: src('./libs/zero-trust/src/index.ts') },
    ],
  },
  test: {
    include: ['libs/**/src/**/*.spec.ts', 'apps/**/src/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One more worker than this machine's two cores: the cluster, Sentinel and broker suites spend
    // most of their time waiting on servers (a failover, a restart), which another file can use.
    // 259 s with two workers, 163 s with three, every suite passing (2026-12-05).
    maxWorkers: 3,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
