import fs from 'node:fs';
import path from 'node:path';
import { renderPermissionsDoc } from '../src/policy/permissions-doc';
import { SUBGRAPHS } from '../src/subgraphs';

describe('docs/permissions.md', () => {
  it('is the current rendering of the policy table (run `npm run docs:permissions`)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', 'docs', 'permissions.md'), 'utf8');
    expect(committed).toBe(renderPermissionsDoc(SUBGRAPHS));
  });
});
