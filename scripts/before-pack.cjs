// electron-builder beforePack hook (electron-builder.yml): refuse to package without the
// Electron-ABI SQLCipher binding, which would otherwise be skipped silently and leave an app
// that cannot open its encrypted store. Build it with `npm run rebuild:electron` first. A signed
// Windows build must resolve a publisherName (win-publisher.cjs).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { checkWindowsPublisher } = require('./win-publisher.cjs');

exports.default = async function beforePack(context) {
  const binding = join(context.packager.projectDir, '.native', 'electron', 'better_sqlite3.node');
  if (!existsSync(binding)) {
    throw new Error(`${binding} is missing: run \`npm run rebuild:electron\` on this OS/arch before packaging.`);
  }
  await checkWindowsPublisher(context);
};
