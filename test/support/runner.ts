/**
 * Vitest runner for every project (vitest.config.ts): the test files of a project share their
 * worker processes (`isolate: false`) instead of each starting a Node process of its own, and
 * this runner gives each file fresh copies of our own modules, as vitest's isolation would.
 *
 * What a file no longer pays (issue 11 item 10): starting Node and vitest's worker, and loading
 * the dependencies (openpgp, @xmpp/client, better-sqlite3, playwright-core…). Node keeps those in
 * its module cache for the process, and they hold no test's state. Our sources (main/, common/,
 * test/) are evaluated again for every file: before each file, the evaluated-module cache is
 * cleared exactly as vitest clears it between isolated files (its `resetModules`: everything but
 * vitest's own modules), so a module-level value (a file's keychain service name, a cache, a
 * registry of ports) starts afresh in each file.
 *
 * What files of one worker still share: the process (its environment variables, its listeners,
 * timers a file leaves running), Node's cache of the dependencies, the native Secret Service
 * client's D-Bus connection (test/support/keyring-runner.ts), and one Chromium
 * (test/support/chromium.ts `fileBrowser`). A file that needs a process of its own (its own D-Bus
 * connection, say) goes in a project with `isolate: true`.
 */
import { TestRunner } from 'vitest';

/** What vitest keeps across files: its own modules (vitest's `resetModules` skip list). */
const VITEST_OWN = [/\/vitest\/dist\//, /vitest-virtual-\w+\/dist/, /@vitest\/dist/];

interface EvaluatedModule {
  promise?: unknown;
  exports?: unknown;
  evaluated: boolean;
  importers: Set<string>;
}

export default class FileRunner extends TestRunner {
  async onBeforeCollect(): Promise<void> {
    // `workerState` is the base class's private field: vitest's own between-file reset reads the
    // same map (vitest/dist/chunks/base.*.js `run`).
    const { evaluatedModules } = (
      this as unknown as { workerState: { evaluatedModules: { idToModuleMap: Map<string, EvaluatedModule> } } }
    ).workerState;
    evaluatedModules.idToModuleMap.forEach((node, id) => {
      if (VITEST_OWN.some((re) => re.test(id))) return;
      node.promise = undefined;
      node.exports = undefined;
      node.evaluated = false;
      node.importers.clear();
    });
  }
}
