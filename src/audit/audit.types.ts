import type { Access } from '../policy/policy.types';

export enum AuditOutcome {
  /**
   * Not an outcome yet: a mutation is about to run. Written (and durable) before the mutation's
   * resolvers execute anything, with no reads and no changes; the request's final event, with the
   * same requestId, follows. A STARTED event without a final one is an anomaly (the hub stopped
   * mid-request, or the final write failed): what the mutation did is then in the department's
   * records, not in the trail.
   */
  STARTED = 'STARTED',
  /** Everything asked for was served. */
  SUCCESS = 'SUCCESS',
  /**
   * Served, with some fields refused (FORBIDDEN on their paths) or failed; or a change made whose
   * answer was refused or failed (its `changes` say what).
   */
  PARTIAL = 'PARTIAL',
  /** Nothing served and nothing changed: every root field refused. */
  DENIED = 'DENIED',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** Parse or validation error, bad input, missing purpose. */
  INVALID = 'INVALID',
  /** Request too large or too deep. */
  LIMIT_EXCEEDED = 'LIMIT_EXCEEDED',
  /** An unexpected failure inside the hub. */
  ERROR = 'ERROR',
}

/** 用途 — why a child's data is asked for (the `x-purpose` header). */
export enum PurposeCode {
  CASE_HANDLING = 'CASE_HANDLING',
  REFERRAL = 'REFERRAL',
  MANDATORY_REPORT = 'MANDATORY_REPORT',
  SCREENING = 'SCREENING',
  EMPLOYMENT_CHECK = 'EMPLOYMENT_CHECK',
  ASSISTANCE = 'ASSISTANCE',
  SUPERVISION = 'SUPERVISION',
}

export interface Purpose {
  code: PurposeCode;
  /** Free text such as a case number; at most 200 characters. */
  reference?: string;
}

/** What one request read of one child: `Type.field` → how it was served. */
export interface ChildRead {
  minorId: string;
  fields: Record<string, Access>;
}

/**
 * The children one request read with the same fields served the same way, in one entry of the
 * stored event: a page of 100 children is a few entries instead of 100 copies of its field list.
 * Events written before 2026-12 hold one `ChildRead` per child instead (`childReads` reads both).
 */
export interface ReadGroup {
  fields: Record<string, Access>;
  minorIds: string[];
}

/** What one mutation changed. */
export interface Change {
  mutation: string;
  /** The record written (created, updated or removed). */
  id: string | null;
  /** The child the record belongs to. */
  minorId: string | null;
  /**
   * Names of the arguments and input fields given (never their values); for a parent record a
   * sub-record's mutation moved on (a report it closed), the parent's fields it set.
   */
  fields: string[];
}

/** What the subgraphs resolved for one request; travels to the gateway with each fetch. */
export interface AccessRecord {
  reads: ChildRead[];
  changes: Change[];
  /**
   * Children of `reads` whose only read is their record type's `__typename`, made of a record found
   * with nothing of the child read in this fetch (AccessLog.settleFound). The gateway takes them back
   * as found: whether the request read nothing else of the child is known only there, once every
   * fetch is in. Absent from a subgraph of the release before, whose `reads` are then taken as they are.
   */
  found?: { minorId: string; recordType: string }[];
  /** A field of a child's record naming no child to the reader was served (AccessLog.servedUnnamedChild). */
  unnamed?: true;
}

/** The event as hashed and stored. Field names are part of the chain's canonical form: do not rename. */
export interface AuditEventBody {
  requestId: string;
  time: string;
  userId: string | null;
  department: string | null;
  role: string | null;
  region: string | null;
  clientAddress: string | null;
  operationName: string | null;
  operationType: string | null;
  /** SHA-256 of the document with literals stripped and ignored characters removed. */
  documentHash: string | null;
  document: string | null;
  /** Variable name → keyed hash (HMAC-SHA256) of its JSON value; values are never stored. */
  variables: Record<string, string>;
  purpose: Purpose | null;
  outcome: AuditOutcome;
  errorCodes: string[];
  durationMs: number;
  reads: (ReadGroup | ChildRead)[];
  changes: Change[];
}
