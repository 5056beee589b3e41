import net from 'node:net';
import { DEFAULT_PURPOSE } from './test-hub';

/** What a test sends over a raw socket: bytes, a pause, or the client's half-close (FIN). */
export type Step = string | Buffer | { pause: number } | { end: 'fin' };

/**
 * Sends the steps over one socket to 127.0.0.1:`port`; resolves with everything received once the
 * server closes, or after `wait` ms of silence. What `fetch` cannot do: headers as written, a body
 * in pieces, a client that stalls or hangs up.
 */
export function exchange(port: number, steps: Step[], wait = 1500): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, wait);
    };
    socket.on('data', (c) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? finish() : reject(e)));
    socket.on('connect', async () => {
      for (const step of steps) {
        if (typeof step === 'object' && 'pause' in step && !Buffer.isBuffer(step)) await new Promise((r) => setTimeout(r, step.pause));
        else if (typeof step === 'object' && 'end' in step && !Buffer.isBuffer(step)) socket.end();
        else socket.write(step as string | Buffer);
      }
      arm();
    });
  });
}

/** A connection held open to 127.0.0.1:`port`, keeping what it receives and whether it was closed. */
export interface HeldConnection {
  socket: net.Socket;
  received: Buffer[];
  closed: boolean;
}

/** Opens a connection a test writes to and watches at its own pace (`exchange` runs a script to the end). */
export async function openConnection(port: number): Promise<HeldConnection> {
  const socket = net.connect(port, '127.0.0.1');
  const connection: HeldConnection = { socket, received: [], closed: false };
  socket.on('data', (chunk: Buffer) => connection.received.push(chunk));
  socket.on('close', () => (connection.closed = true));
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return connection;
}

/**
 * POSTs `body` to /graphql with `token`, holding back its last `tail` bytes for `pause` ms (a token
 * that expires meanwhile expires while the body arrives); resolves with the raw answer.
 */
export async function postWithStalledBody(port: number, token: string, body: string, purpose: string, tail: number, pause = 3000): Promise<string> {
  const head = [
    'POST /graphql HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    `Authorization: Bearer ${token}`,
    'Content-Type: application/json',
    `x-purpose: ${purpose}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  const bytes = Buffer.concat([Buffer.from(head), Buffer.from(body)]);
  const split = bytes.length - tail;
  return (await exchange(port, [bytes.subarray(0, split), { pause }, bytes.subarray(split)])).toString();
}

/** A POST of `query` to /graphql as written on the wire, with the bearer token and the default purpose. */
export function graphqlRequest(token: string, query: string): string {
  const body = JSON.stringify({ query });
  const head = ['POST /graphql HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', `Authorization: Bearer ${token}`, `x-purpose: ${DEFAULT_PURPOSE['x-purpose']}`, `Content-Length: ${Buffer.byteLength(body)}`];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** The complete responses in what a connection received, in order. */
export function responsesIn(raw: Buffer): { status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let rest = raw;
  for (let end = rest.indexOf('\r\n\r\n'); rest.subarray(0, 9).toString() === 'HTTP/1.1 ' && end > 0; end = rest.indexOf('\r\n\r\n')) {
    const [statusLine, ...lines] = rest.subarray(0, end).toString().split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    if (rest.length < end + 4 + length) break;
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.subarray(end + 4, end + 4 + length).toString() });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}
