/** What a command touches, handed in by the launcher (tests run the real binary instead). */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** The administrator's wall clock, read once per command: commands never call `new Date()`. */
  now: () => Date;
}
