import type { Principal } from '../auth/principal';
import type { AuditEventBody, Change, ChildRead, Purpose, ReadGroup } from './audit.types';
import { AuditOutcome, PurposeCode } from './audit.types';
import { Access } from '../policy/policy.types';

/** The hub's own failures, or those of what it depends on: nothing of the client's doing. */
const ERROR_CODES = new Set(['INTERNAL_SERVER_ERROR', 'AUDIT_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'COMMIT_OUTCOME_UNKNOWN', 'IDENTITY_PROVIDER_UNAVAILABLE']);

const INVALID_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

/**
 * How a request ended, from its error codes, whether any root field was served and whether it made
 * a change (its access log holds one). Whatever else went wrong, an answer that carried data, or a
 * request that changed something, is PARTIAL: an auditor looking for what was released or done
 * (SUCCESS or PARTIAL) must find it, though a field failed or an alias ran into a limit beside it,
 * or a mutation's answer was withheld after it committed.
 */
export function outcomeOf(errorCodes: string[], data: Record<string, unknown> | null | undefined, changed = false): AuditOutcome {
  if (!errorCodes.length) return AuditOutcome.SUCCESS;
  // Before UNAUTHENTICATED: in distributed mode a subgraph that refuses the gateway's assertion
  // answers 401, forwarded beside what the other subgraphs served. A caller refused at the door
  // gets no data, and stays UNAUTHENTICATED.
  if (changed || (data && Object.values(data).some((v) => v !== null && v !== undefined))) return AuditOutcome.PARTIAL;
  if (errorCodes.includes('UNAUTHENTICATED')) return AuditOutcome.UNAUTHENTICATED;
  if (errorCodes.includes('LIMIT_EXCEEDED')) return AuditOutcome.LIMIT_EXCEEDED;
  if (errorCodes.some((c) => ERROR_CODES.has(c))) return AuditOutcome.ERROR;
  if (errorCodes.includes('FORBIDDEN')) return AuditOutcome.DENIED;
  if (errorCodes.some((c) => INVALID_CODES.has(c))) return AuditOutcome.INVALID;
  return AuditOutcome.ERROR;
}

/**
 * Whether a change of the request may be stored: a mutation that made one, whose commit is in
 * doubt (COMMIT_OUTCOME_UNKNOWN), or whose remote subgraph's answer was lost (it may have committed
 * one). Such a request is never answered with a status that invites sending it again: retried
 * whole, it would make the change twice.
 */
export function changeMayStand(operationType: string | undefined, access: { mayHaveChanged(): boolean }, errorCodes: readonly string[]): boolean {
  return operationType === 'mutation' && (access.mayHaveChanged() || errorCodes.includes('COMMIT_OUTCOME_UNKNOWN'));
}

/**
 * In an event's `errorCodes`: a remote subgraph's answer to one of the request's fetches was lost
 * (AccessLog.answerLost), so the event may not hold all that was read or changed. Followed by
 * `SUBGRAPH_ANSWER_LOST:<subgraph>` for each subgraph concerned. Never sent to the client.
 */
export const ANSWER_LOST = 'SUBGRAPH_ANSWER_LOST';

export const answerLostCodes = (subgraphs: string[]): string[] => (subgraphs.length ? [ANSWER_LOST, ...subgraphs.map((s) => `${ANSWER_LOST}:${s}`)] : []);

/** The longest operation name an event holds: the document, also in the event, has it whole. */
export const MAX_OPERATION_NAME = 200;

export interface EventInput {
  requestId: string;
  startedAt: number;
  principal: Principal | null;
  clientAddress: string | null;
  outcome: AuditOutcome;
  errorCodes: string[];
  operationName?: string | null;
  operationType?: string | null;
  document?: { text: string; hash: string } | null;
  variables?: Record<string, string>;
  purpose?: Purpose | null;
  access?: { reads: ReadGroup[]; changes: Change[] };
}

export function auditEvent(e: EventInput): AuditEventBody {
  // Keys in canonical (sorted) order, so that canonicalJson writes the event in one native call.
  return {
    changes: e.access?.changes ?? [],
    clientAddress: e.clientAddress,
    department: e.principal?.department ?? null,
    document: e.document?.text ?? null,
    documentHash: e.document?.hash ?? null,
    durationMs: Math.round((performance.now() - e.startedAt) * 10) / 10,
    errorCodes: [...new Set(e.errorCodes)].sort(),
    // Here, so that every path writing events (the compiled read too) writes the same name.
    operationName: e.operationName?.slice(0, MAX_OPERATION_NAME) ?? null,
    operationType: e.operationType ?? null,
    outcome: e.outcome,
    purpose: e.purpose ?? null,
    reads: e.access?.reads ?? [],
    region: e.principal?.region ?? null,
    requestId: e.requestId,
    role: e.principal?.role ?? null,
    time: new Date().toISOString(),
    userId: e.principal?.userId ?? null,
    variables: e.variables ?? {},
  };
}

/** One entry per child read, from an event of either form (ReadGroup, or ChildRead before 2026-12). */
export function childReads(body: Pick<AuditEventBody, 'reads'>): ChildRead[] {
  return body.reads.flatMap((r) => ('minorIds' in r ? r.minorIds.map((minorId) => ({ minorId, fields: r.fields })) : [r]));
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isTextOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTextRecord = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every(isText);
const ACCESSES = new Set<unknown>(Object.values(Access));
// A read's fields, each served one of the ways there are: another value is no audit event's either.
const isAccessRecord = (v: unknown): boolean => isRecord(v) && Object.values(v).every((a) => ACCESSES.has(a));
const OUTCOMES = new Set<unknown>(Object.values(AuditOutcome));
const PURPOSES = new Set<unknown>(Object.values(PurposeCode));

const isPurpose = (p: unknown): boolean => p === null || (isRecord(p) && PURPOSES.has(p.code) && (p.reference === undefined || isText(p.reference)));
const isRead = (r: unknown): boolean =>
  isRecord(r) && isAccessRecord(r.fields) && ('minorIds' in r ? Array.isArray(r.minorIds) && r.minorIds.every(isText) : isText(r.minorId));
const isChange = (c: unknown): boolean =>
  isRecord(c) && isText(c.mutation) && isTextOrNull(c.id) && isTextOrNull(c.minorId) && Array.isArray(c.fields) && c.fields.every(isText);

/**
 * Whether `p` has what both an event and a child's part of it (minorAccessHistory) hold: who, when,
 * why, how it ended, and what was read and changed, each of its type.
 */
function isEventCore(p: unknown): p is HistoryPart & Record<string, unknown> {
  return (
    isRecord(p) &&
    isText(p.requestId) &&
    isText(p.time) &&
    !Number.isNaN(Date.parse(p.time)) &&
    [p.userId, p.department, p.role].every(isTextOrNull) &&
    isPurpose(p.purpose) &&
    OUTCOMES.has(p.outcome) &&
    Array.isArray(p.reads) &&
    p.reads.every(isRead) &&
    Array.isArray(p.changes) &&
    p.changes.every(isChange)
  );
}

/**
 * Whether a stored body is an audit event, every member of the type it is read as: whoever can
 * write `audit.event` can put anything there under its own hash (`{}`, reads that are no reads),
 * and the auditor's API and the verification read them.
 */
function isEventBody(b: unknown): b is AuditEventBody {
  return (
    isEventCore(b) &&
    [b.region, b.clientAddress, b.operationName, b.operationType, b.documentHash, b.document].every(isTextOrNull) &&
    isTextRecord(b.variables) &&
    Array.isArray(b.errorCodes) &&
    b.errorCodes.every(isText) &&
    typeof b.durationMs === 'number' &&
    Number.isFinite(b.durationMs)
  );
}

/** The stored body as an event, or null when it is no JSON or no audit event. */
export function readEventBody(text: string): AuditEventBody | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  return isEventBody(body) ? body : null;
}

/** What a child's history (`minorAccessHistory`) takes of an event: its reads of the child alone. */
export type HistoryPart = Pick<AuditEventBody, 'requestId' | 'time' | 'userId' | 'department' | 'role' | 'purpose' | 'outcome' | 'changes'> & { reads: ChildRead[] };

/** Whether the part of a stored body a child's history took is of an audit event, as isEventBody. */
export const isHistoryPart = isEventCore;
