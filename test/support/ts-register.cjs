// Runs the hub's TypeScript in a child process the way ts-jest runs it in Jest's (each file
// transpiled alone, tsconfig.json's options): tsx's esbuild drops the decorator metadata that
// type-graphql reads. `node -r ./test/support/ts-register.cjs src/main.ts`.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.join(__dirname, '..', '..');
const { config } = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: { ...options, sourceMap: false, inlineSourceMap: false }, fileName: filename });
  module._compile(outputText, filename);
};
