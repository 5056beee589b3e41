import http from 'node:http';
import https from 'node:https';

/**
 * How long the gateway keeps an idle connection to a subgraph at most. Node's agent shortens it to
 * one second less than the `Keep-Alive: timeout=N` a subgraph announces — but only when a timeout
 * is set at all: without one (make-fetch-happen's default agent) an idle connection is kept until
 * the subgraph closes it, and a fetch sent as it does so fails with ECONNRESET or "socket hang
 * up" — a mutation that may have run, its event marked in doubt (apollographql/federation#2313).
 * On a socket in use the timeout only emits an event: a fetch is cut short by its own limit,
 * HUB_SUBGRAPH_TIMEOUT_MS (signed-remote.data-source.ts).
 */
const IDLE_MS = 60_000;

const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
};

/** The agent for a subgraph URL (a function of the URL, as minipass-fetch takes it). */
export const subgraphAgent = (url: URL): http.Agent => agents[url.protocol as keyof typeof agents] ?? agents['http:'];
