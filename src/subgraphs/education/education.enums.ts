import { registerEnumType } from 'type-graphql';

/** 学籍状态 */
export enum EnrollmentStatus {
  ENROLLED = 'ENROLLED', // 在读
  SUSPENDED = 'SUSPENDED', // 休学
  TRANSFERRED_OUT = 'TRANSFERRED_OUT', // 转出
  DROPPED_OUT = 'DROPPED_OUT', // 辍学
  GRADUATED = 'GRADUATED', // 毕业
}

export enum DropoutStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}

/** How a 控辍保学 case ended. */
export enum DropoutOutcome {
  RETURNED_TO_SCHOOL = 'RETURNED_TO_SCHOOL', // 劝返复学
  VOCATIONAL_SCHOOL = 'VOCATIONAL_SCHOOL', // 转入职业学校
  MEDICAL_DEFERRAL = 'MEDICAL_DEFERRAL', // 因病缓学
  NOT_RETURNED = 'NOT_RETURNED', // 未能劝返
}

/** 劝返 — how the school or township tried to bring the child back. */
export enum PersuasionMethod {
  HOME_VISIT = 'HOME_VISIT',
  PHONE_CALL = 'PHONE_CALL',
  JOINT_VISIT = 'JOINT_VISIT', // 联合劝返 (school, township, village)
  SCHOOL_MEETING = 'SCHOOL_MEETING',
}

export enum BullyingRole {
  VICTIM = 'VICTIM',
  PERPETRATOR = 'PERPETRATOR',
}

export enum BullyingSeverity {
  GENERAL = 'GENERAL', // 一般
  SERIOUS = 'SERIOUS', // 严重: the school reports it to police and the education bureau itself; recording it here tells no one
}

export enum BullyingCaseStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}

/** 学生资助 */
export enum EducationAidKind {
  TUITION_WAIVER = 'TUITION_WAIVER', // 免学费
  LIVING_SUBSIDY = 'LIVING_SUBSIDY', // 生活补助
  NUTRITION_MEAL = 'NUTRITION_MEAL', // 营养餐
  SCHOLARSHIP = 'SCHOLARSHIP', // 助学金
}

registerEnumType(EnrollmentStatus, { name: 'EnrollmentStatus', description: '学籍状态' });
registerEnumType(DropoutStatus, { name: 'DropoutStatus' });
registerEnumType(DropoutOutcome, { name: 'DropoutOutcome', description: '控辍保学 outcome' });
registerEnumType(PersuasionMethod, { name: 'PersuasionMethod', description: '劝返 method' });
registerEnumType(BullyingRole, { name: 'BullyingRole' });
registerEnumType(BullyingSeverity, { name: 'BullyingSeverity' });
registerEnumType(BullyingCaseStatus, { name: 'BullyingCaseStatus' });
registerEnumType(EducationAidKind, { name: 'EducationAidKind', description: '学生资助' });
