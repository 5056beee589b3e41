import 'reflect-metadata';
import { loadConfig } from './config/hub.config';
import { loggableSummary } from './errors/hub.exception';
import { startHub } from './server/hub.server';

async function main() {
  const config = loadConfig();
  const hub = await startHub(config, (m) => console.log(m));
  console.log(`\nMinor-protection hub ready at ${hub.url}  (health: http://localhost:${hub.port}/health)`);
  console.log('Get a token:   npm run token -- --department POLICE [--region <code>] [--role OFFICER|AUDITOR|DASHBOARD|REPORTER|EMPLOYER]');
  console.log(`Then:          curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -H 'x-purpose: CASE_HANDLING' \\`);
  console.log(`                 -d '{"query":"{ minors(first: 3) { edges { node { name riskLevel } } } }"}' ${hub.url}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the hub and its database …`);
    await hub.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error('[hub] failed to start:', loggableSummary(e));
  process.exit(1);
});
