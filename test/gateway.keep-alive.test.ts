import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignedRemoteDataSource } from '../src/gateway/signed-remote.data-source';

/**
 * The gateway's connections to a subgraph: an idle one is dropped by the gateway before the
 * subgraph's announced keep-alive timeout, so that no fetch is sent on a connection the subgraph
 * is closing (ECONNRESET, "socket hang up": a mutation in doubt).
 */
describe('gateway → subgraph keep-alive', () => {
  it('closes an idle connection a second before the subgraph announces it would', async () => {
    const closedBy: string[] = [];
    const server = http.createServer((_req, res) => res.end('{}'));
    server.keepAliveTimeout = 3000; // announced as Keep-Alive: timeout=3
    server.on('connection', (socket) => {
      // 'end' is the client's FIN; a socket the server times out is destroyed without one.
      socket.on('end', () => closedBy.push('client'));
      socket.on('close', () => closedBy.length || closedBy.push('server'));
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
    try {
      // Through the gateway's own fetcher (make-fetch-happen), as every subgraph fetch goes.
      const source = new SignedRemoteDataSource(url.href, 'registry', new Uint8Array(32), 60_000, () => new Date());
      const res = await source.fetcher(url.href, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect([res.status, await res.text(), res.headers.get('keep-alive')]).toEqual([200, '{}', 'timeout=3']);
      await new Promise((r) => setTimeout(r, 4000));
      expect(closedBy).toEqual(['client']);
    } finally {
      server.close();
    }
  });
});
