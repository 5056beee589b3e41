import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AuditOutcome, PurposeCode, type AuditEventBody } from '../../../../audit/audit.types';
import { Access } from '../../../../policy/policy.types';

registerEnumType(AuditOutcome, {
  name: 'AuditOutcome',
  description: 'How a request ended; a mutation has a STARTED event first',
  valuesConfig: {
    STARTED: {
      description: 'A mutation about to run, recorded before it changed anything; its final event (same requestId) follows. One without a final event is an anomaly.',
    },
  },
});
registerEnumType(PurposeCode, { name: 'PurposeCode', description: '用途 — the declared purpose of use (x-purpose header)' });
registerEnumType(Access, { name: 'FieldAccess', description: 'How a field was served: the value, a masked value, or refused' });

@ObjectType()
export class PurposeRecord {
  @Field(() => PurposeCode)
  code: PurposeCode;

  @Field(() => String, { nullable: true })
  reference?: string;
}

@ObjectType({ description: 'One field of a child’s record as served to the caller' })
export class FieldRead {
  @Field({ description: 'Type.field, e.g. Guardian.phone' })
  field: string;

  @Field(() => Access)
  access: Access;
}

@ObjectType({ description: 'What one request read of one child' })
export class ChildReadRecord {
  @Field(() => ID)
  minorId: string;

  @Field(() => [FieldRead])
  fields: FieldRead[];
}

@ObjectType({ description: 'What one mutation wrote (argument names, never values)' })
export class ChangeRecord {
  @Field()
  mutation: string;

  @Field(() => ID, { nullable: true })
  id: string | null;

  @Field(() => ID, { nullable: true })
  minorId: string | null;

  @Field(() => [String])
  fields: string[];
}

@ObjectType({ description: 'One request to the hub, as recorded in the hash chain' })
export class AuditEvent {
  @Field(() => String, { description: 'Position in the chain' })
  seq: string;

  @Field(() => ID)
  requestId: string;

  @Field()
  time: Date;

  @Field(() => String, { nullable: true })
  userId: string | null;

  @Field(() => String, { nullable: true })
  department: string | null;

  @Field(() => String, { nullable: true })
  role: string | null;

  @Field(() => String, { nullable: true, description: 'The caller’s jurisdiction' })
  region: string | null;

  @Field(() => String, { nullable: true })
  clientAddress: string | null;

  @Field(() => String, { nullable: true })
  operationName: string | null;

  @Field(() => String, { nullable: true })
  operationType: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the normalised document' })
  documentHash: string | null;

  @Field(() => String, { nullable: true, description: 'The document with literal values stripped' })
  document: string | null;

  @Field(() => [String], { description: 'Names of the variables sent (their values are kept only as keyed hashes)' })
  variableNames: string[];

  @Field(() => PurposeRecord, { nullable: true })
  purpose: PurposeRecord | null;

  @Field(() => AuditOutcome)
  outcome: AuditOutcome;

  @Field(() => [String])
  errorCodes: string[];

  @Field(() => Float, { description: 'From the arrival of the request’s headers (its body’s upload included) to the event’s writing' })
  durationMs: number;

  /** As stored, for `reads` and `changes` (AuditEventResolver), which record the children they name. */
  stored: Pick<AuditEventBody, 'reads' | 'changes'>;

  @Field()
  hash: string;

  @Field()
  prevHash: string;
}

/**
 * Fields of children an `auditEvents` page reads out, per event asked on average (`first` × this
 * in all; the page stops before an event that would pass it, unless it is the first): what the
 * cost limit prices `AuditEvent.reads` at (src/audit/query-cost.ts). Stored grouped, one request's
 * reads of thousands of children are one entry; answered one entry per child, each with its field list.
 */
export const FIELD_READS_PER_EVENT = 100;

@ObjectType()
export class AuditEventEdge {
  @Field()
  cursor: string;

  @Field(() => AuditEvent)
  node: AuditEvent;
}

@ObjectType()
export class AuditPageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType({ description: 'Audit events, newest first' })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges: AuditEventEdge[];

  @Field(() => AuditPageInfo)
  pageInfo: AuditPageInfo;
}

@InputType({ description: 'A point of the chain recorded outside the database (the hub logs `audit anchor seq=… hash=…`)' })
export class AuditChainAnchor {
  @Field(() => String, { description: 'The event’s sequence number' })
  seq: string;

  @Field({ description: 'Its hash, 64 hexadecimal digits' })
  hash: string;
}

@InputType()
export class AuditEventFilter {
  @Field(() => String, { nullable: true })
  userId?: string;

  @Field(() => String, { nullable: true })
  department?: string;

  @Field(() => ID, { nullable: true, description: 'Events that read or changed this child' })
  minorId?: string;

  @Field(() => ID, { nullable: true, description: 'The events of one request: the id its answer named in `x-request-id`, or an anomaly lists' })
  requestId?: string;

  @Field(() => AuditOutcome, { nullable: true })
  outcome?: AuditOutcome;

  @Field(() => PurposeCode, { nullable: true })
  purpose?: PurposeCode;

  @Field(() => Date, { nullable: true, description: 'Events at this time or later (a time finer than the millisecond events are stamped to is not cut to it)' })
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Events before this time' })
  to?: Date;
}

@ObjectType({ description: '“Who looked at this child”: one request that read or changed the child’s record' })
export class MinorAccess {
  @Field({ description: 'The event\'s place in the trail: pass the last one as `after` for the next page' })
  seq: string;

  @Field(() => ID)
  requestId: string;

  @Field()
  time: Date;

  @Field(() => String, { nullable: true })
  userId: string | null;

  @Field(() => String, { nullable: true })
  department: string | null;

  @Field(() => String, { nullable: true })
  role: string | null;

  @Field(() => PurposeRecord, { nullable: true })
  purpose: PurposeRecord | null;

  @Field(() => AuditOutcome)
  outcome: AuditOutcome;

  @Field(() => [FieldRead], { description: 'Fields of this child’s record read in the request' })
  fields: FieldRead[];

  @Field(() => [ChangeRecord], { description: 'Writes to this child’s record in the request' })
  changes: ChangeRecord[];
}

@ObjectType()
export class ChainBreakRecord {
  @Field(() => String)
  seq: string;

  @Field(() => ID, { nullable: true })
  requestId: string | null;

  @Field({
    description:
      'MODIFIED, LINK (inserted or reordered), MISSING (deleted), ANCHOR (not the hash an anchor recorded: rewritten) or TRUNCATED (the chain ends before an anchored event)',
  })
  reason: string;

  @Field()
  detail: string;
}

@ObjectType({ description: 'Result of re-walking the hash chain' })
export class AuditChainStatus {
  @Field()
  ok: boolean;

  @Field(() => Int)
  events: number;

  @Field({ description: 'Hash of the last verified event; anchor it outside the database' })
  headHash: string;

  @Field(() => Int, { description: 'How many of the anchors given were found in the chain as recorded' })
  anchorsChecked: number;

  @Field(() => ChainBreakRecord, { nullable: true })
  firstBreak: ChainBreakRecord | null;
}
