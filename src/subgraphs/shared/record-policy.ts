import type { PolicySubject } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';
import { PAGE_FIELDS } from './record-page';

/** The same grant for several fields of one record type, with one reason (a summary, a detail …). */
export const fieldRows = (type: string, fields: string[], allow: readonly PolicySubject[], reason: string): PolicyRow[] =>
  fields.map((field) => policyRow(type, field, { allow }, reason));

/** Every field of a `RecordPage`: whoever may run the list query reads its structure. */
export const pageRows = (type: string, allow: readonly PolicySubject[], query: string): PolicyRow[] =>
  fieldRows(type, PAGE_FIELDS, allow, `Paging structure of \`${query}\`.`);

/** A slice's mutations: only the owning department writes its records. */
export const ownerWriteRows = (owner: PolicySubject, mutations: string[], ledger: string): PolicyRow[] =>
  mutations.map((m) =>
    policyRow('Mutation', m, { allow: [owner] }, `${ledger} is ${owner}’s own ledger; nobody writes another department’s records.`),
  );
