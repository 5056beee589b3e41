import { registerEnumType } from 'type-graphql';

export enum ParentRole {
  FATHER = 'FATHER',
  MOTHER = 'MOTHER',
}

/** 服刑 or 在戒 */
export enum CustodyKind {
  SERVING_SENTENCE = 'SERVING_SENTENCE', // 服刑
  COMPULSORY_REHAB = 'COMPULSORY_REHAB', // 强制隔离戒毒
}

export enum CustodyStatus {
  IN_CUSTODY = 'IN_CUSTODY',
  RELEASED = 'RELEASED',
}

/** 社区矫正 */
export enum CorrectionStatus {
  ACTIVE = 'ACTIVE',
  COMPLETED = 'COMPLETED', // 解除矫正
  REVOKED = 'REVOKED', // 撤销缓刑/假释
}

/** 法律援助 matter */
export enum LegalAidMatter {
  GUARDIANSHIP = 'GUARDIANSHIP', // 监护权
  CHILD_SUPPORT = 'CHILD_SUPPORT', // 抚养费
  VICTIM_REPRESENTATION = 'VICTIM_REPRESENTATION', // 被害人代理
  DEFENCE = 'DEFENCE', // 刑事辩护
  EDUCATION_RIGHTS = 'EDUCATION_RIGHTS', // 受教育权
  OTHER = 'OTHER',
}

export enum LegalAidStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}

registerEnumType(ParentRole, { name: 'ParentRole' });
registerEnumType(CustodyKind, { name: 'CustodyKind', description: '服刑 / 强制隔离戒毒' });
registerEnumType(CustodyStatus, { name: 'CustodyStatus' });
registerEnumType(CorrectionStatus, { name: 'CorrectionStatus', description: '社区矫正状态' });
registerEnumType(LegalAidMatter, { name: 'LegalAidMatter', description: '法律援助事项' });
registerEnumType(LegalAidStatus, { name: 'LegalAidStatus' });
