/** The only entry into Electron-specific code (ARCHITECTURE.md §2: main/electron/). */
export { startElectronShell, type ShellEnvironment, type ShellHandle, type ShellOptions } from './start';
export { sqliteNativeBindingPath } from './native-binding';
