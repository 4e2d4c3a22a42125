export type SystemDepCommand = 'test' | 'demo';
export interface SystemDep {
  path: string;
  pkg: string;
  for: SystemDepCommand[];
}
export interface SystemDepsIo {
  platform: NodeJS.Platform;
  isRoot(): boolean;
  isPresent(path: string): boolean;
  run(cmd: string, args: string[], env: NodeJS.ProcessEnv): number;
  log(text: string): void;
  error(text: string): void;
}
export const SYSTEM_DEPS: SystemDep[];
export function missingPackages(
  command: SystemDepCommand,
  isPresent: (path: string) => boolean,
  deps?: SystemDep[],
): string[];
export function aptInstallCommand(pkgs: string[]): string;
export function installAdvice(command: SystemDepCommand, pkgs: string[]): string;
export function onPath(cmd: string, env?: NodeJS.ProcessEnv): boolean;
export function ensureSystemDeps(command: SystemDepCommand, io?: SystemDepsIo): boolean;
