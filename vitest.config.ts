import { svelte } from '@sveltejs/vite-plugin-svelte';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { buildWorkerBundles } from './test/support/worker-bundles';

// Worker threads start from bundles built once per run, not from their .ts sources
// (test/support/worker-bundles.ts).
process.env.CLINIC_WORKER_DIR = buildWorkerBundles('clinic-test-build');

// Test files run in parallel (issue 11 item 10). Integration and e2e files mostly wait (on Prosody,
// on timers, on Chromium), so one worker more than there are cores keeps the CPUs busy; vitest's
// own default (cores - 1) is a single worker on a 2-core machine. Every file has its own Prosody on
// its own ports, its own temp dirs and its own keychain service names
// (test/support/test-keychain.ts).
const workers = Math.min(availableParallelism() + 1, 6);

// The files of a project share their worker processes instead of each starting Node, vitest and
// the dependencies again; the runner still gives each file fresh copies of our own modules
// (test/support/runner.ts). Integration and e2e workers also get a D-Bus session bus and an
// unlocked gnome-keyring of their own (test/support/keyring-runner.ts). In one sitting on this
// 2-core machine: the unit project 175 → 102 s of CPU, integration 716 → 644 s.
const sharedProcess = { isolate: false, runner: './test/support/runner.ts' };
const sharedProcessWithKeychain = { isolate: false, runner: './test/support/keyring-runner.ts' };
// Files that need a process of their own: ui-keychain points the session bus at nothing before the
// native Secret Service client first connects, and that client keeps its first connection for the
// life of the process (test/support/keyring-runner.ts).
const ownProcess = ['test/e2e/ui-keychain.test.ts'];

// A file that needs the machine to itself: xmpp-sign-in-load keeps every core busy on purpose
// (busy loops beside ten Argon2 sign-ins) and asserts that sign-in still succeeds. Beside other
// files it would starve them and be starved beyond the load it sets up. Project
// 'integration-serial' runs it alone after the parallel group (its groupOrder is higher: vitest
// starts a group once the previous one is done; `--project 'integration*'` selects every
// integration project).
const runAlone = ['test/integration/xmpp-sign-in-load.test.ts'];

// Cluster faults, two Erlang VMs each: ejabberd-frozen-node waits on Erlang's own timers (the
// cluster giving up on a SIGSTOPped node) while two clients run; beside the parallel group the final
// clean-clone CI of 890e15c saw bob's five messages still unsent after 240 s. The CI of 179c044 saw
// the same in this group; its cause was the client's, a reconnect race that ended in a false
// AUTH_FAILED under load (main/xmpp/transport/lib-patches.ts dropStaleSaslResponses).
// ejabberd-failover-burst sends 2 × 1,000 OX messages through two Erlang VMs while killing one.
// They run beside the server matrix below (project 'integration-cluster-faults', same group). Vitest
// orders a group's files by project name, so these two, the longest, start first.
const clusterFaults = [
  'test/integration/ejabberd-frozen-node.test.ts',
  'test/integration/ejabberd-failover-burst.test.ts',
];

// The server matrix (issue 19 item 2; test/support/test-server.ts): these files run once per
// server — Prosody in 'integration', then a single ejabberd node and a 2-node ejabberd cluster
// (clients spread across both nodes) in the projects below, which set CLINIC_TEST_SERVER.
const serverMatrix = [
  'test/integration/xmpp-messaging.test.ts',
  'test/integration/xmpp-delivery.test.ts',
  'test/integration/xmpp-message-changes.test.ts',
  'test/integration/xmpp-message-refs.test.ts',
  'test/integration/xmpp-integrity.test.ts',
  'test/integration/xmpp-hostile.test.ts',
  'test/integration/xmpp-not-set-up.test.ts',
  // ejabberd 23.01 knows only two publish-options and refuses XEP-0490's pubsub#max_items: the
  // client publishes with those two and configures the node with the rest (pep-keys.ts publishWith).
  'test/integration/xmpp-read-sync.test.ts',
];
// The server matrix and the cluster faults run last, as one group: two Erlang VMs per cluster file
// beside the parallel group loaded the 2-core CI machine enough to time out unrelated tests. Two
// files run at a time (of any of these projects: a group has one worker count). Three at a time
// was slower on this 2-core machine (the group 394 s against 356 s; the failover burst 205 s
// against 115 s): the CPUs were busy.
const afterTheRest = { maxWorkers: 2, sequence: { groupOrder: 2 } };
/** An integration project: the keychain and real servers, its files sharing worker processes. */
const integrationProject = (
  name: string,
  include: string[],
  more: NonNullable<TestProjectInlineConfiguration['test']> = {},
): TestProjectInlineConfiguration => ({
  test: {
    name,
    expect: expectRoundTrips,
    include,
    environment: 'node',
    ...sharedProcessWithKeychain,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...more,
  },
});
const onServer = (name: string, server: string) =>
  integrationProject(name, serverMatrix, {
    env: { CLINIC_TEST_SERVER: server },
    hookTimeout: 180_000,
    ...afterTheRest,
  });

// expect.poll's default gives up after 1 s. An integration or e2e poll waits for a round trip
// through main, the store, Prosody and back (a row's state, a screen's text), which on a loaded CI
// machine can take longer than that without anything being wrong. A hang guard, not a speed
// limit: a poll still returns as soon as its condition holds.
const expectRoundTrips = { poll: { timeout: 20_000 } };

export default defineConfig({
  test: {
    maxWorkers: workers,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          ...sharedProcess,
          // Hang guards, not speed limits: beside integration and e2e files a unit test that takes
          // 1 s alone can take several; vitest's 5 s / 10 s defaults would fail it for that.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [svelte()],
        ...integrationProject('integration', ['test/integration/**/*.test.ts'], {
          exclude: [...runAlone, ...clusterFaults],
        }),
      },
      integrationProject('integration-serial', runAlone, { fileParallelism: false, sequence: { groupOrder: 1 } }),
      integrationProject('integration-cluster-faults', clusterFaults, afterTheRest),
      onServer('integration-ejabberd', 'ejabberd'),
      onServer('integration-ejabberd-cluster', 'ejabberd-cluster'),
      {
        test: {
          name: 'e2e',
          expect: expectRoundTrips,
          include: ['test/e2e/**/*.test.ts'],
          exclude: ownProcess,
          environment: 'node',
          ...sharedProcessWithKeychain,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e-own-process',
          expect: expectRoundTrips,
          include: ownProcess,
          environment: 'node',
          // vitest's default: a new process per file.
          isolate: true,
          runner: './test/support/keyring-runner.ts',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
