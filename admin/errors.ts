/**
 * Exit codes of clinic-admin (documented in admin/README.md): 0 done, 1 the operation failed
 * (wrong passphrase, unreadable key file, an output file that exists), 2 the command line is
 * wrong (unknown command, missing or bad argument). Messages never contain a passphrase or key.
 */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILED) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string) => new CliError(message, EXIT_USAGE);
