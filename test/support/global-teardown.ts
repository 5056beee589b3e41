import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as Record<string, unknown>).__HUB_TEST_PG__ as { stop(): Promise<void> } | undefined;
  await pg?.stop();
  if (process.env.HUB_TEST_DATA_DIR) fs.rmSync(process.env.HUB_TEST_DATA_DIR, { recursive: true, force: true });
}
