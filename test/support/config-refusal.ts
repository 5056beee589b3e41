import { loadConfig } from '../../src/config/hub.config';

/** The test run's data directory, as every configuration loaded here must name one. */
export const DATA = { HUB_DATA_DIR: process.env.HUB_TEST_DATA_DIR };

/** Why `loadConfig` refuses `env` (with the test data directory), or null when it takes it. */
export function refusalOf(env: Record<string, string | undefined>): string | null {
  try {
    loadConfig({ ...DATA, ...env });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
