/** npm run compose [-- --out supergraph.graphql]: writes the composed supergraph Apollo Router can serve. */
import 'reflect-metadata';
import fs from 'node:fs';
import { loadConfig } from '../config/hub.config';
import { loggableSummary, withoutUrlCredentials } from '../errors/hub.exception';
import { buildSubgraph, composeSupergraph } from '../gateway/supergraph';
import { buildPolicy } from '../server/bootstrap';
import { requireKnownSubgraphs, SUBGRAPHS } from '../subgraphs';
import { parseArgs } from './args';

async function main() {
  const { flags } = parseArgs(process.argv.slice(2), ['out']);
  const config = loadConfig();
  requireKnownSubgraphs(config.subgraphUrls);
  const policy = buildPolicy();
  const subgraphs = await Promise.all(SUBGRAPHS.map((s) => buildSubgraph(s, policy)));
  const urls = Object.fromEntries(
    SUBGRAPHS.map((s, i) => [s.name, config.subgraphUrls[s.name] ?? `http://localhost:${4001 + i}/graphql`]),
  );
  const out = flags.out ?? 'supergraph.graphql';
  fs.writeFileSync(out, composeSupergraph(subgraphs, urls));
  // The supergraph must carry a URL's user:password@ for the router to fetch with; the log line must not.
  console.log(`wrote ${out} (${SUBGRAPHS.length} subgraphs: ${Object.entries(urls).map(([n, u]) => `${n}=${withoutUrlCredentials(u)}`).join(', ')})`);
}

main().catch((e) => {
  console.error(`compose: ${loggableSummary(e)}`);
  process.exit(1);
});
