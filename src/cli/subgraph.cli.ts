/** npm run subgraph -- <name> --port N: serves one subgraph alone for distributed mode. */
import 'reflect-metadata';
import { loadConfig } from '../config/hub.config';
import { loggableSummary } from '../errors/hub.exception';
import { startSubgraphServer } from '../server/subgraph.server';
import { decimalFlag, parseArgs } from './args';

async function main() {
  const { flags, positional } = parseArgs(process.argv.slice(2), ['port'], 1);
  const [name] = positional;
  if (!name) throw new Error('usage: npm run subgraph -- <name> --port N');
  const port = decimalFlag(flags.port, 4001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port is a TCP port, 0 to 65535');
  const server = await startSubgraphServer(name, loadConfig(), port);
  console.log(`Subgraph ${name} at ${server.url} — accepts only requests signed by the gateway`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(`subgraph: ${loggableSummary(e)}`);
  process.exit(1);
});
