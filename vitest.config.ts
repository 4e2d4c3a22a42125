import { svelte } from '@sveltejs/vite-plugin-svelte';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One pool for all three projects, files in parallel (issue 11 item 10). Integration and e2e files
// mostly wait (on Prosody, on timers, on Chromium), so a worker more than there are cores keeps the
// CPUs busy; vitest's own default (cores - 1) is a single worker on a 2-core machine. Every file
// has its own Prosody on its own ports, its own temp dirs and its own keychain service name, so
// files running side by side never see each other's accounts, archives or secrets.
const workers = Math.min(availableParallelism() + 1, 6);

// Files that need the machine to themselves: xmpp-sign-in-load keeps every core busy on purpose
// (busy loops beside ten Argon2 sign-ins) and asserts that sign-in still succeeds. Beside other
// files it would starve them and be starved beyond the load it sets up. Project
// 'integration-serial' runs them one at a time after everything else (`--project 'integration*'`
// selects both integration projects).
const runAlone = ['test/integration/xmpp-sign-in-load.test.ts'];

export default defineConfig({
  test: {
    maxWorkers: workers,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Hang guards, not speed limits: beside integration and e2e files a unit test that takes
          // 1 s alone can take several; vitest's 5 s / 10 s defaults would fail it for that.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [svelte()],
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: runAlone,
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration-serial',
          include: runAlone,
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
