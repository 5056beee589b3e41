/** npm run docs:permissions: renders the policy table into docs/permissions.md. */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { renderPermissionsDoc } from '../policy/permissions-doc';
import { SUBGRAPHS } from '../subgraphs';

export const PERMISSIONS_DOC = path.join('docs', 'permissions.md');

fs.mkdirSync(path.dirname(PERMISSIONS_DOC), { recursive: true });
fs.writeFileSync(PERMISSIONS_DOC, renderPermissionsDoc(SUBGRAPHS));
console.log(`wrote ${PERMISSIONS_DOC}`);
