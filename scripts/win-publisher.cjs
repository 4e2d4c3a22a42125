// A signed Windows build must pin the signer's publisherName in app-update.yml: it is what
// electron-updater checks an update's Authenticode signature against, and without it the app
// never downloads updates by itself (main/electron/updater.ts). electron-builder takes it from
// the signing certificate's CN when win.signtoolOptions.publisherName is unset — for a .pfx
// (WIN_CSC_LINK / CSC_LINK, certificateFile) or a certificate-store lookup — and from
// azureSignOptions.publisherName for Azure Trusted Signing. A custom `sign` hook without a
// certificate resolves none: then pass the certificate's subject CN as
// -c.win.signtoolOptions.publisherName="$CSC_PUBLISHER_NAME". This check fails such a build
// loudly instead of shipping an installer whose updates can never be verified.

/** Whether this build signs Windows binaries (a certificate or a signing service is configured). */
const signsWindows = (packager, env) => {
  const win = packager.platformSpecificBuildOptions || {};
  const signtool = win.signtoolOptions || {};
  return Boolean(
    packager.forceCodeSigning ||
    env.WIN_CSC_LINK ||
    env.CSC_LINK ||
    signtool.certificateFile ||
    signtool.certificateSubjectName ||
    signtool.certificateSha1 ||
    signtool.sign ||
    win.azureSignOptions,
  );
};

/** Throws when a signed Windows build resolves no publisherName; returns the names otherwise. */
const checkWindowsPublisher = async (context, env = process.env) => {
  if (context.electronPlatformName !== 'win32') return null;
  if (!signsWindows(context.packager, env)) return null;
  const manager = await context.packager.signingManager.value;
  const names = ((await manager.computedPublisherName.value) || []).filter((n) => typeof n === 'string' && n.trim());
  if (names.length === 0) {
    const hint = env.CSC_PUBLISHER_NAME
      ? `pass -c.win.signtoolOptions.publisherName="${env.CSC_PUBLISHER_NAME}" (CSC_PUBLISHER_NAME)`
      : 'set CSC_PUBLISHER_NAME to the subject CN of the code-signing certificate and pass -c.win.signtoolOptions.publisherName="$CSC_PUBLISHER_NAME"';
    throw new Error(
      `This signed Windows build has no publisherName, so updates could never be verified: ${hint}. See electron-builder.yml (win).`,
    );
  }
  return names;
};

module.exports = { checkWindowsPublisher, signsWindows };
