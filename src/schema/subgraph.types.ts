import type { IResolvers } from '@graphql-tools/utils';
import type { AuditSink } from '../audit/audit.writer';
import type { NonEmptyArray } from 'type-graphql';
import type { DataSource, EntityManager, MigrationInterface } from 'typeorm';
import type { Department } from '../auth/principal';
import type { HubConfig } from '../config/hub.config';
import type { GrantSource } from '../policy/grants';
import type { Policy } from '../policy/policy';
import type { PolicyRow } from '../policy/policy.types';
import type { ChildRecords } from '../subgraphs/shared/seed';

/** What a slice's background work gets from the server that runs it. */
export interface SliceRuntime {
  /** The requests' pool: every wait bounded (HUB_STATEMENT_TIMEOUT_MS). */
  ds: DataSource;
  /** A pool without time limits, for background work that legitimately runs long. */
  maintenance: DataSource;
  config: HubConfig;
  policy: Policy;
  /**
   * The audit trail, for background work that discloses a child's data (webhook deliveries): the
   * hub's writer in process, the subgraph process's own writer in distributed mode.
   */
  audit: AuditSink;
}

/**
 * One department's slice of the hub. Adding a department is a new folder exporting one of these
 * and one line in `src/subgraphs/index.ts`.
 */
export interface SubgraphSlice {
  /** Also the name of the slice's Postgres schema and of the subgraph in the supergraph. */
  name: string;
  owner: Department;
  entities: Function[];
  migrations: (new () => MigrationInterface)[];
  resolvers: NonEmptyArray<Function>;
  /** Entity stubs and types reached only through other types: buildSubgraphSchema drops them otherwise. */
  orphanedTypes?: Function[];
  /** `__resolveReference` implementations, keyed by type name. */
  referenceResolvers?: IResolvers;
  policy: PolicyRow[];
  /** The slice's records of one registry child, for `npm run seed:scale` (which loads the registry itself). */
  scaleRecords?: ChildRecords;
  /**
   * Types whose objects are part of a child's record: `Minor`, or objects carrying `minorId`.
   * Every field read on them is audited per child, and an operation selecting them needs a
   * declared purpose.
   */
  childRecordTypes?: string[];
  /**
   * Every mutation needs a declared purpose, whatever it returns: a change to a child's record
   * need not answer with it (`removeGuardian` answers with an id). The mutations named here, each
   * with why, need none: they change no child's record, or the README says so (a REPORTER's
   * `fileMandatoryReport`). Checked at start-up: each is a mutation of the slice that returns no
   * child-record type (one that does needs a purpose by what it selects anyway).
   */
  purposeFreeMutations?: Record<string, string>;
  /**
   * Of `purposeFreeMutations`, those that may still change a child's record (a REPORTER's report is
   * linked to the child it names): refused, as every other mutation, under a purpose that never
   * serves a child's data (EMPLOYMENT_CHECK). Checked at start-up to be purpose-free mutations.
   */
  purposeFreeChildChanges?: readonly string[];
  /** Records of this slice that open fields of a child's record to another department (an open referral). */
  grantSources?: GrantSource[];
  /**
   * Demo data, written when the slice's tables are empty. Deterministic. Every slice's seed runs in
   * one transaction (`em`, bootstrap's seedDemo), after the slices before it in SUBGRAPHS, and only
   * into an empty registry: a department's demo records are attached to the children it holds.
   * `policy`: every slice's, for what a seed writes as the hub would (a notification's payload).
   */
  seedDemo?: (em: EntityManager, anchor: Date, policy: Policy) => Promise<void>;
  /** Work on the seeded demo data, once the seeding transaction has committed (only at a start that seeded). */
  afterSeedDemo?: (ds: DataSource) => Promise<void>;
  /**
   * Background work (timers, jobs), started once by the process that serves the slice — the hub
   * for in-process slices, `npm run subgraph` in distributed mode — and stopped on shutdown
   * before the database closes.
   */
  start?: (runtime: SliceRuntime) => { stop(): Promise<void> };
}
