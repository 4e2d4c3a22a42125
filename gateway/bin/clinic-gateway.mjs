#!/usr/bin/env node
// `npx clinic-gateway --config gateway.json` (package.json "bin"; `npm run gateway -- --config …`).
// The gateway is TypeScript; tsx compiles it in memory in this process, as clinic-admin does.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli.ts');
const { startGateway } = await import('../gateway.ts');
process.exitCode = await run(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  start: (config) => startGateway(config),
  stopRequested: () =>
    new Promise((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    }),
});
