// Preloaded into the hub's processes by `npm run bench` (node -r). graphql-js decides once, when
// it loads, whether to run its development checks (a multi-realm test on every failed type check,
// a fifth of the time of a large answer); production deployments run with NODE_ENV=production and
// without them. The hub's own NODE_ENV=production would also demand real JWT keys and refuse
// HUB_BENCH_DISABLE, so only graphql-js is loaded in production mode here: the copy the process's
// main script resolves (bench/gateways has its own).
const path = require('node:path');
const previous = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';
require(require.resolve('graphql/jsutils/instanceOf.js', { paths: [path.dirname(path.resolve(process.argv[1]))] }));
if (previous === undefined) delete process.env.NODE_ENV;
else process.env.NODE_ENV = previous;
