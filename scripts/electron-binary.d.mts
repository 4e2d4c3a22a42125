export function findElectronBinary(root: string, env?: NodeJS.ProcessEnv): { path: string | null; reason: string };
