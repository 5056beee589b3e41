// The benchmark peer: PostGraphile v4 on the hub's own registry and education tables, no permissions, no audit.
const http = require('node:http');
const { postgraphile } = require('postgraphile');

const middleware = postgraphile(process.env.DATABASE_URL, ['registry', 'education'], {
  disableDefaultMutations: true,
  graphiql: false,
  disableQueryLog: true,
  ignoreRBAC: true,
  setofFunctionsContainNulls: false,
  retryOnInitFail: false,
});
http.createServer(middleware).listen(Number(process.env.PORT), () => console.log(`postgraphile on ${process.env.PORT}`));
