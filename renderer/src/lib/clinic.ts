/** The typed bridge the preload (or the harness shim) installs. */
import type { ClinicApi } from '../../../common/client-api';

declare global {
  interface Window {
    clinic: ClinicApi;
  }
}

export const clinic = (): ClinicApi => window.clinic;
