// The benchmark peer: PostGraphile v4 on the hub's own registry and education tables, no permissions, no audit.
const http = require('node:http');
const { Pool } = require('pg');
const { postgraphile } = require('postgraphile');

// Its sessions kept through the rounds' pauses, as the hub keeps its own (src/db/time-limits.ts,
// IDLE_CONNECTION_MS): a session opened after one starts cold, and the peer would pay for it where
// the hub does not.
const pool = new Pool({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 10 * 60_000 });

const middleware = postgraphile(pool, ['registry', 'education'], {
  disableDefaultMutations: true,
  graphiql: false,
  disableQueryLog: true,
  ignoreRBAC: true,
  setofFunctionsContainNulls: false,
  retryOnInitFail: false,
});
http.createServer(middleware).listen(Number(process.env.PORT), () => console.log(`postgraphile on ${process.env.PORT}`));
