import { registerEnumType } from 'type-graphql';

export enum PreventionKind {
  GENERAL_PREVENTION = 'GENERAL_PREVENTION', // 预防犯罪 (不良行为, 闲散, 流浪)
  SERIOUS_MISBEHAVIOUR = 'SERIOUS_MISBEHAVIOUR', // 严重不良行为 follow-up
}

/** 严重不良行为 (预防未成年人犯罪法 art. 38) */
export enum SeriousMisbehaviour {
  GANG_FIGHTING = 'GANG_FIGHTING', // 结伙斗殴
  CARRYING_WEAPON = 'CARRYING_WEAPON', // 携带管制刀具
  REPEATED_THEFT = 'REPEATED_THEFT', // 多次盗窃
  DRUG_USE = 'DRUG_USE', // 吸食毒品
  GAMBLING = 'GAMBLING', // 参与赌博
  OTHER = 'OTHER',
}

export enum PreventionCaseStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}

/** Support for an idle minor (闲散未成年人) */
export enum IdleSupportKind {
  RETURN_TO_SCHOOL = 'RETURN_TO_SCHOOL',
  VOCATIONAL_TRAINING = 'VOCATIONAL_TRAINING',
  EMPLOYMENT = 'EMPLOYMENT', // 就业
}

export enum IdleSupportStatus {
  IN_PROGRESS = 'IN_PROGRESS',
  COMPLETED = 'COMPLETED',
  ABANDONED = 'ABANDONED',
}

registerEnumType(PreventionKind, { name: 'PreventionKind' });
registerEnumType(SeriousMisbehaviour, { name: 'SeriousMisbehaviour', description: '严重不良行为' });
registerEnumType(PreventionCaseStatus, { name: 'PreventionCaseStatus' });
registerEnumType(IdleSupportKind, { name: 'IdleSupportKind', description: '闲散未成年人 support' });
registerEnumType(IdleSupportStatus, { name: 'IdleSupportStatus' });
