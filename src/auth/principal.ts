/** 部门 — the departments that share records through the hub. */
export enum Department {
  CIVIL_AFFAIRS = 'CIVIL_AFFAIRS',
  EDUCATION = 'EDUCATION',
  POLICE = 'POLICE',
  JUSTICE = 'JUSTICE',
  YOUTH_LEAGUE = 'YOUTH_LEAGUE',
  WOMENS_FEDERATION = 'WOMENS_FEDERATION',
}

export enum Role {
  /** A department's case officer or the department's system acting for one. */
  OFFICER = 'OFFICER',
  /** Data officer: reads the audit trail, never a child's file. */
  AUDITOR = 'AUDITOR',
  /** Service account of a dashboard: aggregates only. */
  DASHBOARD = 'DASHBOARD',
  /** 强制报告 duty holder (teacher, doctor, community worker, hotel staff): files reports, reads only their status. */
  REPORTER = 'REPORTER',
  /** A unit that must run the pre-employment check (入职查询): sees only CLEAR or RESTRICTED. */
  EMPLOYER = 'EMPLOYER',
}

/**
 * Who the policy table is written for. Officers are told apart by department; the non-officer
 * roles have the same rights whatever department issued their token.
 */
export type PolicySubject = Department | Role.AUDITOR | Role.DASHBOARD | Role.REPORTER | Role.EMPLOYER;

export const POLICY_SUBJECTS: readonly PolicySubject[] = [
  ...Object.values(Department),
  Role.AUDITOR,
  Role.DASHBOARD,
  Role.REPORTER,
  Role.EMPLOYER,
];

export interface Principal {
  userId: string;
  department: Department;
  role: Role;
  /** Jurisdiction node code; the caller sees that node's subtree only. */
  region: string;
}

export function policySubject(p: Principal): PolicySubject {
  return p.role === Role.OFFICER ? p.department : p.role;
}

export const isDepartment = (v: unknown): v is Department =>
  typeof v === 'string' && (Object.values(Department) as string[]).includes(v);
export const isRole = (v: unknown): v is Role => typeof v === 'string' && (Object.values(Role) as string[]).includes(v);
