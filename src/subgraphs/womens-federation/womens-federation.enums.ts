import { registerEnumType } from 'type-graphql';

/** 留守 or 流动 */
export enum CarePlanKind {
  LEFT_BEHIND = 'LEFT_BEHIND', // 农村留守
  MIGRANT = 'MIGRANT', // 流动
}

export enum CarePlanStatus {
  ACTIVE = 'ACTIVE',
  ENDED = 'ENDED',
}

/** Support to a family after domestic violence */
export enum ViolenceSupportKind {
  SHELTER = 'SHELTER', // 庇护
  COUNSELLING = 'COUNSELLING', // 心理疏导
  LEGAL_REFERRAL = 'LEGAL_REFERRAL', // 转介法律援助
  PROTECTION_ORDER = 'PROTECTION_ORDER', // 协助申请人身安全保护令
}

export enum ViolenceSupportStatus {
  ACTIVE = 'ACTIVE',
  CLOSED = 'CLOSED',
}

registerEnumType(CarePlanKind, { name: 'CarePlanKind', description: '留守 / 流动' });
registerEnumType(CarePlanStatus, { name: 'CarePlanStatus' });
registerEnumType(ViolenceSupportKind, { name: 'ViolenceSupportKind' });
registerEnumType(ViolenceSupportStatus, { name: 'ViolenceSupportStatus' });
