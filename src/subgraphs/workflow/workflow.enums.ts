import { registerEnumType } from 'type-graphql';

/** 强制报告 — suspected harm. */
export enum HarmType {
  PHYSICAL_ABUSE = 'PHYSICAL_ABUSE', // 身体虐待
  SEXUAL_ABUSE = 'SEXUAL_ABUSE', // 性侵害
  NEGLECT = 'NEGLECT', // 疏于照料
  ABANDONMENT = 'ABANDONMENT', // 遗弃
  DOMESTIC_VIOLENCE = 'DOMESTIC_VIOLENCE', // 家庭暴力
  TRAFFICKING = 'TRAFFICKING', // 拐卖
  MISSING = 'MISSING', // 失踪
  SELF_HARM = 'SELF_HARM', // 自伤自残
  OTHER = 'OTHER',
}

export enum ReportUrgency {
  URGENT = 'URGENT',
  HIGH = 'HIGH',
  NORMAL = 'NORMAL',
}

/** RECEIVED → VERIFYING → HANDLED → CLOSED, or VERIFYING → UNFOUNDED. */
export enum ReportStatus {
  RECEIVED = 'RECEIVED', // 接报
  VERIFYING = 'VERIFYING', // 核查
  HANDLED = 'HANDLED', // 处置
  CLOSED = 'CLOSED', // 结案
  UNFOUNDED = 'UNFOUNDED', // 不实
}

/** 转介 — the need handed to another department. */
export enum ReferralType {
  EDUCATION_AID = 'EDUCATION_AID', // 教育资助
  MEDICAL_AID = 'MEDICAL_AID', // 医疗救助
  LEGAL_AID = 'LEGAL_AID', // 法律援助
  LIVING_ASSISTANCE = 'LIVING_ASSISTANCE', // 生活救助
  COUNSELLING = 'COUNSELLING', // 心理疏导
  PLACEMENT = 'PLACEMENT', // 临时安置
  FAMILY_EDUCATION_GUIDANCE = 'FAMILY_EDUCATION_GUIDANCE', // 家庭教育指导
}

/** PENDING → ACCEPTED → COMPLETED, or PENDING → DECLINED. Open (granting fields) while PENDING or ACCEPTED. */
export enum ReferralStatus {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  DECLINED = 'DECLINED',
  COMPLETED = 'COMPLETED',
}

export const OPEN_REFERRAL: readonly ReferralStatus[] = [ReferralStatus.PENDING, ReferralStatus.ACCEPTED];

export enum ReferralDirection {
  SENT = 'SENT',
  RECEIVED = 'RECEIVED',
  ALL = 'ALL',
}

/** 信息通报 — events the departments with jurisdiction are told about. */
export enum NotificationKind {
  CHILD_RED = 'CHILD_RED', // 新评估为红色
  GUARDIANSHIP_FAILURE = 'GUARDIANSHIP_FAILURE', // 监护失当
  DROPOUT = 'DROPOUT', // 辍学
  MANDATORY_REPORT = 'MANDATORY_REPORT', // 新强制报告
  REFERRAL_RECEIVED = 'REFERRAL_RECEIVED', // 转介给你
  REFERRAL_OUTCOME = 'REFERRAL_OUTCOME', // 转介结果反馈
  ESCALATION = 'ESCALATION', // 逾期升级
  VISIT_OVERDUE = 'VISIT_OVERDUE', // 走访逾期 (RED/ORANGE)
  REASSESSMENT_REQUESTED = 'REASSESSMENT_REQUESTED', // 报告处置后重新评估
}

/** 入职查询 — the only two answers an employer ever gets. */
export enum EmploymentAnswer {
  CLEAR = 'CLEAR',
  RESTRICTED = 'RESTRICTED',
}

/** 从业限制 — offences against minors that bar a person from work with them. */
export enum BarringOffence {
  SEXUAL_HARM = 'SEXUAL_HARM',
  ABUSE = 'ABUSE',
  TRAFFICKING = 'TRAFFICKING',
  VIOLENCE = 'VIOLENCE',
  OTHER = 'OTHER',
}

registerEnumType(HarmType, { name: 'HarmType', description: '强制报告: suspected harm' });
registerEnumType(ReportUrgency, { name: 'ReportUrgency', description: 'Sets the verification and handling deadlines' });
registerEnumType(ReportStatus, { name: 'ReportStatus', description: 'RECEIVED → VERIFYING → HANDLED → CLOSED, or VERIFYING → UNFOUNDED' });
registerEnumType(ReferralType, { name: 'ReferralType', description: '转介: the need handed over' });
registerEnumType(ReferralStatus, { name: 'ReferralStatus', description: 'PENDING → ACCEPTED → COMPLETED, or PENDING → DECLINED' });
registerEnumType(ReferralDirection, { name: 'ReferralDirection' });
registerEnumType(NotificationKind, { name: 'NotificationKind', description: '信息通报' });
registerEnumType(EmploymentAnswer, { name: 'EmploymentAnswer', description: '入职查询: nothing but CLEAR or RESTRICTED' });
registerEnumType(BarringOffence, { name: 'BarringOffence', description: '从业限制: offences against minors' });
