import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneTemplateDatabase, startTestHub, type TestHub } from './test-hub';

/** How the next COMMIT is lost: its reply (Postgres ran it), or the COMMIT itself (never sent on). */
export type Loss = 'reply' | 'commit';

export interface LostReplyProxy {
  /** The database's URL through the proxy. */
  url: string;
  /**
   * Loses the next COMMIT on a connection that sent a statement containing `after`, and everything
   * that connection carries afterwards — as a stalled network or pooler does — without closing it.
   * With `unreachableMs`, connections opened within that time of the COMMIT are taken and never
   * answered: the database cannot be reached to find out what became of it.
   */
  loseNextCommit(after: string, loss: Loss, unreachableMs?: number): void;
  /** Whether a COMMIT was lost since `loseNextCommit`. */
  lost(): boolean;
  close(): Promise<void>;
}

/** A pass-through proxy to the Postgres of `databaseUrl` (a Unix socket URL, `?host=<dir>`), on a socket of its own. */
export async function lostReplyProxy(databaseUrl: string): Promise<LostReplyProxy> {
  const real = new URL(databaseUrl);
  const socketName = `.s.PGSQL.${real.port}`;
  const target = join(real.searchParams.get('host')!, socketName);
  const dir = mkdtempSync(join(tmpdir(), 'lost-reply-'));
  let armed: { after: string; loss: Loss; unreachableMs: number } | null = null;
  let lostAt: number | null = null;
  let unreachableUntil = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const track = (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    };
    track(client);
    if (Date.now() < unreachableUntil) return; // taken, never answered
    const upstream = connect(target);
    track(upstream);
    let candidate = false;
    let loss: Loss | null = null; // this connection's, once its COMMIT is lost
    client.on('data', (chunk) => {
      if (loss === 'commit') return; // nothing more reaches Postgres
      if (armed && !loss) {
        const text = chunk.toString('latin1');
        if (text.includes(armed.after)) candidate = true;
        // A simple-protocol Query message ('Q') ending the transaction.
        const end = chunk[0] === 0x51 && /\b(COMMIT|ROLLBACK)\b/.exec(text)?.[1];
        if (end === 'COMMIT' && candidate) {
          loss = armed.loss;
          lostAt = Date.now();
          unreachableUntil = lostAt + armed.unreachableMs;
          armed = null;
          if (loss === 'commit') return;
        }
        if (end) candidate = false;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => loss || client.write(chunk));
    // Postgres ending a lost session is not passed on either: the client hears nothing more.
    upstream.on('close', () => loss || client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(join(dir, socketName), resolve));
  const url = new URL(databaseUrl);
  url.searchParams.set('host', dir);
  return {
    url: url.toString(),
    loseNextCommit(after, loss, unreachableMs = 0) {
      armed = { after, loss, unreachableMs };
      lostAt = null;
    },
    lost: () => lostAt !== null,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A hub on a clone of the template whose database connections go through a lost-reply proxy, with
 * a statement timeout of 1 s; `databaseUrl` the clone's own, past the proxy.
 */
export async function startHubBehindLostReplyProxy(): Promise<{ t: TestHub; proxy: LostReplyProxy; databaseUrl: string }> {
  const databaseUrl = await cloneTemplateDatabase();
  const proxy = await lostReplyProxy(databaseUrl);
  try {
    return { t: await startTestHub({ databaseUrl: proxy.url, env: { HUB_STATEMENT_TIMEOUT_MS: '1000' } }), proxy, databaseUrl };
  } catch (e) {
    await proxy.close();
    throw e;
  }
}
