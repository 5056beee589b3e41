import { registerEnumType } from 'type-graphql';

/** 警情 concerning a minor */
export enum IncidentType {
  DOMESTIC_VIOLENCE = 'DOMESTIC_VIOLENCE', // 家庭暴力
  ABUSE = 'ABUSE', // 虐待
  MISSING = 'MISSING', // 失踪
  RUNAWAY = 'RUNAWAY', // 离家出走
  TRAFFICKING = 'TRAFFICKING', // 拐卖
  SEXUAL_HARM = 'SEXUAL_HARM', // 性侵害
}

export enum IncidentStatus {
  REPORTED = 'REPORTED', // 接警
  INVESTIGATING = 'INVESTIGATING', // 处置中
  CLOSED = 'CLOSED', // 结案
}

/** Who was admonished (训诫). */
export enum AdmonishedGuardian {
  FATHER = 'FATHER',
  MOTHER = 'MOTHER',
  OTHER_GUARDIAN = 'OTHER_GUARDIAN',
}

/** 身份比对 result */
export enum VerificationResult {
  MATCHED = 'MATCHED',
  MISMATCHED = 'MISMATCHED',
  NO_RECORD = 'NO_RECORD',
}

/** 户籍 */
export enum HouseholdStatus {
  REGISTERED = 'REGISTERED', // 已登记
  UNREGISTERED = 'UNREGISTERED', // 无户口 (黑户)
  MOVED_OUT = 'MOVED_OUT', // 已迁出
}

registerEnumType(IncidentType, { name: 'IncidentType', description: '警情类型' });
registerEnumType(IncidentStatus, { name: 'IncidentStatus' });
registerEnumType(AdmonishedGuardian, { name: 'AdmonishedGuardian' });
registerEnumType(VerificationResult, { name: 'VerificationResult', description: '身份比对结果' });
registerEnumType(HouseholdStatus, { name: 'HouseholdStatus', description: '户籍状态' });
