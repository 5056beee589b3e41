import { buildIdNumber } from '../../src/common/id-number';
import { chinaDay } from '../../src/common/dates';
import { Department, PolicySubject, Role } from '../../src/auth/principal';
import type { TestHub } from './test-hub';
import { insertWebhook } from './webhooks';

/**
 * A valid call of every root field, derived from the schema's introspection: the fuzzer's
 * (fuzz.redteam10) baseline and hostile values, and the distributed parity sweep's requests.
 */

export interface TypeRef {
  kind: 'NON_NULL' | 'LIST' | 'SCALAR' | 'ENUM' | 'INPUT_OBJECT' | 'OBJECT' | 'INTERFACE' | 'UNION';
  name: string | null;
  ofType: TypeRef | null;
}
export interface InputValue {
  name: string;
  type: TypeRef;
  defaultValue: string | null;
}
export interface FieldDef {
  name: string;
  args: InputValue[];
  type: TypeRef;
}
export interface FullType {
  kind: string;
  name: string;
  fields: FieldDef[] | null;
  inputFields: InputValue[] | null;
  enumValues: { name: string }[] | null;
}

/** The schemas holding the departments' records and the workflow's: what a sweep counts rows of, or makes fail. */
export const RECORD_SCHEMAS: readonly string[] = ['registry', 'education', 'police', 'justice', 'youth_league', 'womens_federation', 'workflow'];

/** A hub on which every root field can be called as often as a sweep calls it: no quota and no cost limit in the way. */
export const SWEEP_ENV: Readonly<Record<string, string>> = {
  HUB_EMPLOYMENT_CHECKS_PER_HOUR: '1000000',
  HUB_EMPLOYMENT_CHECK_MIN_MS: '1',
  HUB_RESCREENS_PER_YEAR: '1000000',
  HUB_WEBHOOK_MAX_PER_REGION: '100',
  HUB_MAX_QUERY_COST: '100000000',
};

/**
 * One token per policy subject: each department's officer, and each non-officer role with the
 * department its token carries.
 */
export const SUBJECT_TOKENS: readonly [PolicySubject, Department, Role][] = [
  [Department.CIVIL_AFFAIRS, Department.CIVIL_AFFAIRS, Role.OFFICER],
  [Department.EDUCATION, Department.EDUCATION, Role.OFFICER],
  [Department.POLICE, Department.POLICE, Role.OFFICER],
  [Department.JUSTICE, Department.JUSTICE, Role.OFFICER],
  [Department.YOUTH_LEAGUE, Department.YOUTH_LEAGUE, Role.OFFICER],
  [Department.WOMENS_FEDERATION, Department.WOMENS_FEDERATION, Role.OFFICER],
  [Role.AUDITOR, Department.CIVIL_AFFAIRS, Role.AUDITOR],
  [Role.DASHBOARD, Department.CIVIL_AFFAIRS, Role.DASHBOARD],
  [Role.REPORTER, Department.EDUCATION, Role.REPORTER],
  [Role.EMPLOYER, Department.EDUCATION, Role.EMPLOYER],
];

export const TYPE_REF = `kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;
export const INTROSPECTION = `{ __schema { queryType { name } mutationType { name } types { kind name
  fields { name type { ${TYPE_REF} } args { name defaultValue type { ${TYPE_REF} } } }
  inputFields { name defaultValue type { ${TYPE_REF} } }
  enumValues { name } } } }`;

export const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);
export const typeText = (t: TypeRef): string =>
  t.kind === 'NON_NULL' ? `${typeText(t.ofType!)}!` : t.kind === 'LIST' ? `[${typeText(t.ofType!)}]` : t.name!;
export const nullable = (t: TypeRef): TypeRef => (t.kind === 'NON_NULL' ? t.ofType! : t);

/** A leaf of an argument tree: where in the arguments (names and list indexes) and its type. */
export interface Leaf {
  path: (string | number)[];
  type: TypeRef;
}

export class Fuzzer {
  types = new Map<string, FullType>();
  private n = 0;

  constructor(private readonly ids: Record<string, string>, private readonly now: Date) {}

  marker(): string {
    return `fz96x${(this.n++).toString(36)}q`;
  }

  enumValues(name: string): string[] {
    return (this.types.get(name)?.enumValues ?? []).map((v) => v.name);
  }

  /** A value the argument would accept (as far as a name tells), carrying `marker` in its free text. */
  valid(t: TypeRef, name: string, field: string, marker: string, seq: number, includeOptional = false): unknown {
    if (t.kind === 'NON_NULL') return this.valid(t.ofType!, name, field, marker, seq, includeOptional);
    if (t.kind === 'LIST') return [this.valid(t.ofType!, name, field, marker, seq)];
    if (t.kind === 'ENUM') return this.validEnum(t.name!, name, field);
    if (t.kind === 'INPUT_OBJECT') {
      const o: Record<string, unknown> = {};
      for (const f of this.types.get(t.name!)!.inputFields!) {
        if (f.type.kind === 'NON_NULL' || includeOptional) o[f.name] = this.valid(f.type, f.name, field, marker, seq);
      }
      return o;
    }
    return this.validScalar(t.name!, name, field, marker, seq);
  }

  private validEnum(type: string, name: string, field: string): string {
    const values = this.enumValues(type);
    if (field === 'transitionReport' && name === 'to') return 'VERIFYING';
    if (field === 'minorCounts' && name === 'level') return 'STREET';
    if (field === 'statisticsRates' && name === 'level') return 'STREET';
    if (type === 'PurposeCode') return 'CASE_HANDLING';
    if (type === 'PreventionKind') return 'SERIOUS_MISBEHAVIOUR';
    return values[0];
  }

  private validScalar(type: string, name: string, field: string, marker: string, seq: number): unknown {
    const today = chinaDay(this.now);
    const daysAgo = (d: number) => chinaDay(new Date(this.now.getTime() - d * 86_400_000));
    if (type === 'Int') {
      return ({ first: 5, grade: 3, daysAbsent: 5, amountYuan: 100, months: 12, ageMin: 1, ageMax: 17 } as Record<string, number>)[name] ?? 30;
    }
    if (type === 'Boolean') return true;
    if (type === 'DateTimeISO') {
      if (name === 'from') return new Date(this.now.getTime() - 86_400_000).toISOString();
      if (name === 'nextVisitDueBefore') return new Date(this.now.getTime() + 86_400_000).toISOString();
      return new Date(this.now.getTime() - 3_600_000).toISOString();
    }
    if (type === 'ID') {
      if (name === 'minorId' || name === 'childId') return this.ids.minor;
      if (name === 'gridCode') return this.ids.grid;
      if (name === 'regionCode') return this.ids.region;
      if (name === 'requestId') return '0190f1e2-0000-7000-8000-000000000000';
      if (name === 'after') return null;
      return this.ids[`${field}.${name}`] ?? this.ids[name] ?? this.ids.minor;
    }
    // String
    if (/On$|^since$|^restrictedUntil$|^expectedRelease$|^identifiedAt$/.test(name)) {
      if (name === 'endsOn' || name === 'restrictedUntil' || name === 'expectedRelease') return chinaDay(new Date(this.now.getTime() + 200 * 86_400_000));
      return name === 'identifiedAt' ? today : daysAgo(10);
    }
    if (name === 'birthDate') return daysAgo(2000 + (seq % 1500));
    if (name === 'idNumber' || name === 'childIdNumber') {
      if (field === 'minorByIdNumber') return this.ids.idNumber;
      // A bar is of an adult, judged: a child's number is refused.
      if (field === 'addBarredPerson') return buildIdNumber('330102', daysAgo(12_000 + (seq % 1500)), 101 + 2 * (seq % 400));
      const birth = daysAgo(2000 + (seq % 1500));
      return buildIdNumber('330102', birth, 101 + 2 * (seq % 400));
    }
    if (name === 'schoolYear') return `${Number(today.slice(0, 4)) - 1}-${today.slice(0, 4)}`;
    if (name === 'url') return `https://127.0.0.1/${marker}`;
    if (name === 'toDepartment') return 'EDUCATION';
    if (name === 'department') return 'CIVIL_AFFAIRS';
    if (name === 'userId') return 'civil_affairs-test';
    if (name === 'regionCode') return this.ids.region;
    if (name === 'seq') return '1';
    if (name === 'hash') return '0'.repeat(64);
    if (name === 'after') return null;
    if (name === 'phone') return '13900001803';
    return `测试${marker}`;
  }

  /** Every leaf and inner node of an argument's type, walking input objects (each field) and lists (item 0). */
  nodes(t: TypeRef, path: (string | number)[], depth = 0): Leaf[] {
    const out: Leaf[] = [{ path, type: t }];
    const inner = nullable(t);
    if (depth > 4) return out;
    if (inner.kind === 'LIST') out.push(...this.nodes(inner.ofType!, [...path, 0], depth + 1));
    if (inner.kind === 'INPUT_OBJECT') {
      for (const f of this.types.get(inner.name!)!.inputFields!) out.push(...this.nodes(f.type, [...path, f.name], depth + 1));
    }
    return out;
  }

  /** Hostile values for a node of type `t` named `name` (the last name of its path). */
  hostile(t: TypeRef, name: string, marker: string): { what: string; value: unknown; variablesOnly?: boolean; inlineOnly?: string }[] {
    const inner = nullable(t);
    const out: { what: string; value: unknown; variablesOnly?: boolean; inlineOnly?: string }[] = [];
    if (t.kind === 'NON_NULL') out.push({ what: 'null for non-null', value: null, variablesOnly: true });
    else out.push({ what: 'explicit null', value: null });
    if (inner.kind === 'LIST') {
      out.push({ what: 'empty list', value: [] });
      out.push({ what: 'list of null', value: [null], variablesOnly: true });
      const item = this.valid(inner.ofType!, name, '', marker, 1);
      out.push({ what: '10,000 items', value: Array.from({ length: 10_000 }, () => item) });
      out.push({ what: 'list of lists', value: [[item]] });
      return out;
    }
    if (inner.kind === 'INPUT_OBJECT') {
      out.push({ what: 'empty object', value: {} });
      out.push({ what: 'unknown field', value: { ...(this.valid(inner, name, '', marker, 1) as object), zz: 1 } });
      let deep: Record<string, unknown> = { leaf: 1 };
      const fieldName = this.types.get(inner.name!)!.inputFields![0].name;
      for (let i = 0; i < 60; i++) deep = { [fieldName]: deep };
      out.push({ what: 'nested 60 deep', value: deep });
      out.push({ what: 'a string for an object', value: `${marker}` });
      return out;
    }
    if (inner.kind === 'ENUM') {
      const v = this.enumValues(inner.name!)[0];
      out.push({ what: 'enum lower case', value: v.toLowerCase() });
      out.push({ what: 'enum with a space', value: `${v} ` });
      out.push({ what: 'enum unknown', value: 'NOT_A_VALUE' });
      out.push({ what: 'enum as a number', value: 1 });
      out.push({ what: 'enum as a string literal', value: v, inlineOnly: JSON.stringify(v) });
      return out;
    }
    switch (inner.name) {
      case 'Int':
        return [
          ...out,
          ...[2147483647, 2147483648, -2147483648, -2147483649, 0, -1, 9007199254740993, 1e308, 1.5, -0].map((value) => ({ what: `int ${value}`, value })),
          { what: 'NaN text', value: 'NaN' },
          { what: 'Infinity text', value: 'Infinity' },
          { what: 'NaN literal', value: null, inlineOnly: 'NaN' },
          { what: '-Infinity literal', value: null, inlineOnly: '-1e400' },
          { what: 'bool for int', value: true },
        ];
      case 'Boolean':
        return [...out, { what: 'string for bool', value: 'true' }, { what: 'int for bool', value: 1 }];
      case 'ID':
        return [...out, ...this.hostileIds(marker)];
      case 'DateTimeISO':
        return [
          ...out,
          ...[
            '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T24:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00+14:00',
            '2026-01-01T00:00:00-12:00', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '2026-01-01', 'infinity', 'now', '',
            `${marker}\u0000`, '1e308',
          ].map((value) => ({ what: `datetime ${value}`, value })),
          { what: 'datetime as a float', value: 1e308 },
          { what: 'datetime as -0', value: -0 },
          { what: 'datetime as 8.64e15+1', value: 8.64e15 + 1 },
        ];
      default:
        return [...out, ...this.hostileStrings(name, marker)];
    }
  }

  private hostileIds(marker: string): { what: string; value: unknown }[] {
    const real = this.ids.minor;
    return [
      { what: 'not a uuid', value: `not-a-uuid-${marker}` },
      { what: 'empty id', value: '' },
      { what: 'upper-case uuid', value: real.toUpperCase() },
      { what: 'braced uuid', value: `{${real}}` },
      { what: 'uuid without hyphens', value: real.replace(/-/g, '') },
      { what: 'uuid with a space', value: ` ${real}` },
      { what: 'uuid with NUL', value: `${real}\u0000` },
      { what: 'nil uuid', value: '00000000-0000-0000-0000-000000000000' },
      { what: 'max uuid', value: 'ffffffff-ffff-ffff-ffff-ffffffffffff' },
      { what: 'uuid-shaped non-hex', value: 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz' },
      { what: 'quote', value: `'${marker}'; --` },
      { what: 'like metacharacters', value: '%_\\' },
      { what: 'int id', value: 123 },
      { what: 'huge int id', value: 2147483648 },
      { what: 'region-like code', value: '330102%' },
      { what: 'long digits', value: '3'.repeat(40) },
      { what: 'lone surrogate id', value: `${marker}\uD800` },
      { what: '100 KB id', value: 'a'.repeat(100_000) },
      { what: 'list for id', value: [real] },
    ];
  }

  private hostileStrings(name: string, marker: string): { what: string; value: unknown }[] {
    const strings: [string, unknown][] = [
      ['NUL', `${marker}\u0000x`],
      ['lone high surrogate', `${marker}\uD800`],
      ['lone low surrogate', `\uDC00${marker}`],
      ['100 KB', `${marker}${'a'.repeat(100_000)}`],
      ['100 K Han characters', `${marker}${'长'.repeat(100_000)}`],
      ['RTL override', `\u202E${marker}\u202C`],
      ['zero-width', `${marker}\u200B`],
      ['only zero-width', '\u200B\u200D'],
      ['SQL/LIKE metacharacters', `${marker}%_\\'"`],
      ['percent', '%'],
      ['underscore', '_'],
      ['backslash', '\\'],
      ['quote', `'${marker}`],
      ['empty', ''],
      ['blank', '   '],
      ['C1 control', `${marker}\u0085`],
      ['BOM', `\uFEFF${marker}`],
      ['astral', `${marker}𠮷😀`],
      ['number for string', 12345],
      ['object for string', { a: marker }],
    ];
    if (/On$|^since$|^restrictedUntil$|^expectedRelease$|^identifiedAt$|^birthDate$/.test(name)) {
      for (const d of ['2026-02-30', '0000-01-01', '9999-12-31T24:00', '9999-12-31', '2026-01-01T00:00:00+14:00', '2026-1-1', '２０２６-０１-０１', 'infinity', 'epoch', 'today', '-infinity', '+275760-09-13', '1899-12-31', '2026-01-01 ']) {
        strings.push([`date ${d}`, d]);
      }
    }
    if (name === 'idNumber' || name === 'childIdNumber') {
      const ok = buildIdNumber('330102', '2015-06-01', 123);
      strings.push(['lower-case x id number', ok.slice(0, 17) + 'x'], ['id number with NUL', `${ok}\u0000`], ['id number 30 Feb', buildIdNumber('330102', '2015-02-30', 1)], ['full-width id number', ok.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))]);
    }
    if (name === 'url') strings.push(['file url', 'file:///etc/passwd'], ['ipv6 loopback', 'https://[::1]/x'], ['javascript url', 'javascript:alert(1)'], ['credentials in url', 'https://u:p@example.org/'], ['url with NUL', 'https://example.org/\u0000']);
    if (name === 'seq') strings.push(['seq -1', '-1'], ['seq 1e400', '1e400'], ['seq 2^64', '18446744073709551616'], ['seq NaN', 'NaN'], ['seq 9.5', '9.5']);
    if (name === 'schoolYear') strings.push(['school year reversed', '2026-2025'], ['school year 0000', '0000-0001'], ['school year 9999', '9999-10000']);
    if (name === 'after') strings.push(['cursor -1', '-1'], ['cursor 1e400', '1e400'], ['cursor base64', 'YXJyYXljb25uZWN0aW9uOjA='], ['cursor 2^64', '18446744073709551616']);
    return strings.map(([what, value]) => ({ what, value }));
  }
}

/** A GraphQL literal of `v` as typed by `t` (enums bare). */
export function literal(v: unknown, t: TypeRef | null, fuzzer: Fuzzer): string {
  if (v === null || v === undefined) return 'null';
  const inner = t ? nullable(t) : null;
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, inner?.kind === 'LIST' ? inner.ofType : null, fuzzer)).join(', ')}]`;
  if (typeof v === 'object') {
    const fields = inner?.kind === 'INPUT_OBJECT' ? fuzzer.types.get(inner.name!)!.inputFields! : [];
    return `{ ${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${literal(x, fields.find((f) => f.name === k)?.type ?? null, fuzzer)}`)
      .join(', ')} }`;
  }
  if (typeof v === 'string' && inner?.kind === 'ENUM' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(v)) return v;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return JSON.stringify(v);
}

export function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root);
  let at: any = copy;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (at[k] === undefined || at[k] === null) at[k] = typeof path[i + 1] === 'number' ? [] : {};
    at = at[k];
  }
  at[path[path.length - 1]] = value;
  return copy;
}

export const selectionOf = (t: TypeRef, fuzzer: Fuzzer): string => {
  const n = named(t);
  const kind = fuzzer.types.get(n.name!)?.kind;
  return kind === 'OBJECT' || kind === 'INTERFACE' || kind === 'UNION' ? ' { __typename }' : '';
};


/**
 * Ids of records every call of the schema may name: the first of each table, and what the demo lacks made
 * through the API by `made` (a bar, a report and its notifications, webhooks, referrals in each state).
 */
export async function callIds(
  t: TestHub,
  made: (subject: PolicySubject, query: string, variables: Record<string, unknown>) => Promise<{ id: string }>,
  fuzzerEnumFirst: (name: string) => string,
): Promise<Record<string, string>> {
  const first = async (sql: string) => ((await t.sql(sql))[0] ?? {}).id as string;
  const ids: Record<string, string> = {
    // Old enough for every record the calls make (work from 16, a dropout from 6, a community correction from 12).
    minor: await first(`SELECT id FROM registry.minor WHERE birth_date <= (now() AT TIME ZONE 'Asia/Shanghai')::date - interval '16 years' ORDER BY id LIMIT 1`),
    region: '330102',
    grid: (await t.sql(`SELECT code FROM registry.region WHERE level = 'GRID' ORDER BY code LIMIT 1`))[0].code,
  };
  ids.idNumber = (await t.sql(`SELECT id_number FROM registry.minor WHERE id = $1`, [ids.minor]))[0].id_number;
  const byTable: [string, string][] = [
    ['updateSchoolEnrollment.id', 'education.school_enrollment'], ['updateDropoutReport.id', 'education.dropout_report'], ['recordPersuasionAction.reportId', 'education.dropout_report'],
    ['updateBullyingCase.id', 'education.bullying_case'], ['updateEducationAid.id', 'education.education_aid'], ['updateIncarceratedParent.id', 'justice.incarcerated_parent'],
    ['updateCommunityCorrection.id', 'justice.community_correction'], ['updateLegalAidCase.id', 'justice.legal_aid_case'], ['updatePoliceIncident.id', 'police.incident'],
    ['updateGuardianAdmonishment.id', 'police.guardian_admonishment'], ['updateIdentityVerification.id', 'police.identity_verification'], ['updateMinor.id', 'registry.minor'],
    ['removeGuardian.guardianId', 'registry.guardian'], ['updateCarePlan.id', 'womens_federation.care_plan'], ['recordCareVisit.planId', 'womens_federation.care_plan'],
    ['updateFamilyEducationSession.id', 'womens_federation.family_education_session'], ['updateDomesticViolenceSupport.id', 'womens_federation.violence_support'],
    ['updateChildrenHomeAttendance.id', 'womens_federation.children_home_attendance'], ['transitionReport.id', 'workflow.mandatory_report'], ['mandatoryReport.id', 'workflow.mandatory_report'],
    ['removeBarredPerson.id', 'workflow.barred_person'], ['acknowledge.id', 'workflow.notification'], ['deactivateWebhook.id', 'workflow.webhook'],
    ['acceptReferral.id', 'workflow.referral'], ['declineReferral.id', 'workflow.referral'], ['completeReferral.id', 'workflow.referral'], ['referral.id', 'workflow.referral'],
    ['updatePreventionCase.id', 'youth_league.prevention_case'], ['recordMisbehaviourFollowUp.caseId', 'youth_league.prevention_case'], ['updateIdleSupport.id', 'youth_league.idle_support'],
    ['updateVolunteerVisit.id', 'youth_league.volunteer_visit'],
  ];
  for (const [key, table] of byTable) ids[key] = (await first(`SELECT id FROM ${table} ORDER BY id LIMIT 1`)) ?? ids.minor;
  // The child the calls name is the one updated too (the first by id was, when `minor` was the first child).
  ids['updateMinor.id'] = ids.minor;
  // Records whose dates no later sub-record holds back, so that an update of today's date is valid.
  ids['updateDropoutReport.id'] = await first(`SELECT id FROM education.dropout_report d WHERE NOT EXISTS (SELECT 1 FROM education.persuasion_action p WHERE p.report_id = d.id) ORDER BY id LIMIT 1`);
  ids['updateCarePlan.id'] = await first(`SELECT id FROM womens_federation.care_plan d WHERE NOT EXISTS (SELECT 1 FROM womens_federation.care_visit p WHERE p.plan_id = d.id) ORDER BY id LIMIT 1`);
  ids['updatePreventionCase.id'] = await first(`SELECT id FROM youth_league.prevention_case d WHERE NOT EXISTS (SELECT 1 FROM youth_league.follow_up p WHERE p.case_id = d.id) ORDER BY id LIMIT 1`);
  // What the demo lacks, made through the API: a bar, a report's notifications, webhooks, referrals in each state.
  ids['removeBarredPerson.id'] = (await made(Department.POLICE, `mutation($i: BarredPersonInput!) { addBarredPerson(input: $i) { id } }`, { i: { idNumber: buildIdNumber('330102', '1980-01-01', 5), name: '王某', offence: fuzzerEnumFirst('BarringOffence'), judgementReference: '(2026)浙0102刑初1号' } })).id;
  ids['transitionReport.id'] = (await made(Role.REPORTER, `mutation($i: FileReportInput!) { fileMandatoryReport(input: $i) { id } }`, { i: { harmType: fuzzerEnumFirst('HarmType'), observation: '观察', location: '学校', regionCode: ids.grid, urgency: fuzzerEnumFirst('ReportUrgency'), childId: ids.minor } })).id;
  // One not yet acknowledged: the first by id was drawn among the demo's (some acknowledged, an
  // acknowledgement again writing nothing) and those just told at random ids, so that a sweep's two
  // hubs could each pick a different kind, and one wrote where the other had not.
  ids['acknowledge.id'] = await first(`SELECT id FROM workflow.notification WHERE acknowledged_at IS NULL ORDER BY id LIMIT 1`);
  ids['mandatoryReport.id'] = ids['transitionReport.id'];
  ids['updateDropoutReport.id'] ??= (await made(Department.EDUCATION, `mutation($m: ID!, $i: DropoutReportInput!) { createDropoutReport(minorId: $m, input: $i) { id } }`, { m: ids.minor, i: { school: '学校', reportedOn: chinaDay(new Date(Date.now() - 40 * 86_400_000)), daysAbsent: 3 } })).id;
  for (const department of Object.values(Department)) await insertWebhook(t, department, '330102', 'https://hooks.example.org/x');
  ids['deactivateWebhook.id'] = await first(`SELECT id FROM workflow.webhook ORDER BY id LIMIT 1`);
  const referral = async () => (await made(Department.CIVIL_AFFAIRS, `mutation($i: CreateReferralInput!) { createReferral(input: $i) { id } }`, { i: { minorId: ids.minor, type: fuzzerEnumFirst('ReferralType'), toDepartment: 'EDUCATION', need: '需要' } })).id;
  ids['acceptReferral.id'] = await referral();
  ids['declineReferral.id'] = await referral();
  ids['completeReferral.id'] = await referral();
  await made(Department.EDUCATION, `mutation($id: ID!) { acceptReferral(id: $id) { id } }`, { id: ids['completeReferral.id'] });
  ids['referral.id'] = ids['acceptReferral.id'];
  return ids;
}
