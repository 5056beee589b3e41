import { registerEnumType } from 'type-graphql';

export enum Gender {
  MALE = 'MALE',
  FEMALE = 'FEMALE',
}

/** 困境类型 — several per child. NEEDS_SUPPORT is only ever an output: the mask of a sensitive category. */
export enum DifficultyCategory {
  ORPHAN = 'ORPHAN', // 孤儿
  UNSUPPORTED = 'UNSUPPORTED', // 事实无人抚养
  LEFT_BEHIND = 'LEFT_BEHIND', // 农村留守
  MIGRANT = 'MIGRANT', // 流动
  STREET_RUNAWAY = 'STREET_RUNAWAY', // 流浪乞讨
  DROPOUT = 'DROPOUT', // 失学辍学
  LACK_OF_GUARDIANSHIP = 'LACK_OF_GUARDIANSHIP', // 监护缺失
  DOMESTIC_VIOLENCE = 'DOMESTIC_VIOLENCE', // 家庭暴力、虐待、遗弃
  INCARCERATED_PARENT = 'INCARCERATED_PARENT', // 服刑在戒人员子女
  DISABILITY = 'DISABILITY', // 残疾
  SERIOUS_ILLNESS = 'SERIOUS_ILLNESS', // 重病
  POVERTY = 'POVERTY', // 贫困
  SERIOUS_MISBEHAVIOUR = 'SERIOUS_MISBEHAVIOUR', // 严重不良行为
  IDLE = 'IDLE', // 闲散
  CRIME_VICTIM = 'CRIME_VICTIM', // 未成年刑事案件受害人
  DIVORCED_FAMILY = 'DIVORCED_FAMILY', // 离婚家庭
  EARLY_MARRIAGE = 'EARLY_MARRIAGE', // 早婚早育
  NEEDS_SUPPORT = 'NEEDS_SUPPORT', // 需要帮扶 (masked sensitive category)
}

/** 监护人状况 */
export enum GuardianSituation {
  NORMAL = 'NORMAL',
  SERVING_SENTENCE = 'SERVING_SENTENCE', // 服刑
  COMPULSORY_REHAB = 'COMPULSORY_REHAB', // 强制隔离戒毒
  SERIOUSLY_ILL_OR_DISABLED = 'SERIOUSLY_ILL_OR_DISABLED', // 重病重残
  DECEASED = 'DECEASED', // 死亡
  MISSING = 'MISSING', // 失踪
  WORKING_AWAY = 'WORKING_AWAY', // 外出务工
  DIVORCED = 'DIVORCED', // 离异
}

export enum GuardianRelationship {
  FATHER = 'FATHER',
  MOTHER = 'MOTHER',
  GRANDPARENT = 'GRANDPARENT',
  SIBLING = 'SIBLING',
  OTHER_RELATIVE = 'OTHER_RELATIVE',
  APPOINTED = 'APPOINTED', // 指定监护人 (e.g. 村/居委会, 民政部门)
}

/** 分级保护 — 红橙黄蓝 */
export enum RiskLevel {
  RED = 'RED',
  ORANGE = 'ORANGE',
  YELLOW = 'YELLOW',
  BLUE = 'BLUE',
}

/** 区县 → 街道/乡镇 → 社区/村 → 网格 */
export enum RegionLevel {
  DISTRICT = 'DISTRICT',
  STREET = 'STREET',
  COMMUNITY = 'COMMUNITY',
  GRID = 'GRID',
}

registerEnumType(Gender, { name: 'Gender' });
registerEnumType(DifficultyCategory, { name: 'DifficultyCategory', description: '困境类型' });
registerEnumType(GuardianSituation, { name: 'GuardianSituation', description: '监护人状况' });
registerEnumType(GuardianRelationship, { name: 'GuardianRelationship' });
registerEnumType(RiskLevel, { name: 'RiskLevel', description: '分级保护: RED 红, ORANGE 橙, YELLOW 黄, BLUE 蓝' });
registerEnumType(RegionLevel, { name: 'RegionLevel' });
