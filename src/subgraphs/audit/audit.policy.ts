import { PolicySubject, Role } from '../../auth/principal';
import { policyRow, PolicyRow } from '../../policy/policy.types';

const AUDITOR: PolicySubject[] = [Role.AUDITOR];
const REASON = 'The trail is for data officers (AUDITOR) only; departments and dashboards never read who looked at what.';

const fields: Record<string, string[]> = {
  Query: ['auditEvents', 'minorAccessHistory', 'auditVerify', 'auditAnomalies'],
  AuditEventConnection: ['edges', 'pageInfo'],
  AuditEventEdge: ['cursor', 'node'],
  AuditPageInfo: ['hasNextPage', 'endCursor'],
  AuditEvent: [
    'seq', 'requestId', 'time', 'userId', 'department', 'role', 'region', 'clientAddress', 'operationName', 'operationType',
    'documentHash', 'document', 'variableNames', 'purpose', 'outcome', 'errorCodes', 'durationMs', 'reads', 'changes', 'hash', 'prevHash',
  ],
  PurposeRecord: ['code', 'reference'],
  ChildReadRecord: ['minorId', 'fields'],
  FieldRead: ['field', 'access'],
  ChangeRecord: ['mutation', 'id', 'minorId', 'fields'],
  MinorAccess: ['seq', 'requestId', 'time', 'userId', 'department', 'role', 'purpose', 'outcome', 'fields', 'changes'],
  AuditChainStatus: ['ok', 'events', 'headHash', 'anchorsChecked', 'firstBreak'],
  ChainBreakRecord: ['seq', 'requestId', 'reason', 'detail'],
  AuditAnomaly: ['kind', 'userId', 'department', 'count', 'description', 'requestIds'],
};

export const auditPolicy: PolicyRow[] = Object.entries(fields).flatMap(([type, names]) =>
  names.map((field) => policyRow(type, field, { allow: AUDITOR }, REASON)),
);
