// A vitest reporter that writes every failure of a run to one JSON file, with its project and the
// reason: failed tests, and also what the JSON reporter leaves without a reason — a beforeAll or
// afterAll that threw (its error belongs to the suite, so the file's entry there has an empty
// message and its tests are only "skipped"), a file that failed to load, and errors thrown outside
// any test. .ci/run prints these near the end of its log, where a truncated log still shows them.
//
// Where: $VITEST_FAILURES_FILE, or artifacts/vitest-failures.json. Used by scripts/test.mjs and
// .ci/run next to `--reporter=default --reporter=json`; it prints nothing itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

/** An error as one line: its message (and name when the message lacks it), never its stack. */
function reason(error) {
  if (!error) return '';
  const message = String(error.message ?? error).trim();
  const name = error.name && error.name !== 'Error' && !message.startsWith(error.name) ? `${error.name}: ` : '';
  return (name + message).replace(/\s*\n\s*/g, ' | ').slice(0, 1500);
}

export default class FailuresReporter {
  onInit(vitest) {
    this.root = vitest.config.root;
  }

  onTestRunEnd(testModules, unhandledErrors) {
    const failures = [];
    const add = (module, where, errors) => {
      for (const error of errors) {
        failures.push({
          project: module?.project?.name ?? '',
          file: module ? relative(this.root ?? process.cwd(), module.moduleId) : '',
          where,
          reason: reason(error),
        });
      }
    };
    for (const module of testModules) {
      // A file that failed to load or collect, or whose top-level hooks threw.
      add(module, '(file)', module.errors());
      // A describe block whose beforeAll/afterAll threw.
      for (const suite of module.children.allSuites()) add(module, `${suite.fullName} (hook)`, suite.errors());
      for (const test of module.children.allTests('failed')) add(module, test.fullName, test.result().errors ?? []);
    }
    add(undefined, '(outside any test)', unhandledErrors);
    const file = process.env.VITEST_FAILURES_FILE || 'artifacts/vitest-failures.json';
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(failures, null, 2) + '\n');
  }
}
