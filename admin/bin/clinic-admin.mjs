#!/usr/bin/env node
// `npx clinic-admin …` (package.json "bin"): the administrator's CLI is TypeScript that shares
// main/crypto with the app; tsx compiles it in memory, in this same process, so the passphrase
// prompt keeps the terminal (no child process between the user and the no-echo prompt).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli.ts');
process.exitCode = await run(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  now: () => new Date(),
});
