import { MaskKind } from './policy.types';

/** 罪错/受害 categories whose exact value is narrower than the fact that a child needs support. */
export const SENSITIVE_CATEGORIES = new Set(['CRIME_VICTIM', 'DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT']);
export const NEEDS_SUPPORT = 'NEEDS_SUPPORT';

const star = (n: number) => '*'.repeat(Math.max(n, 0));

/**
 * Characters that mark a street, estate, building or place rather than the name of a province,
 * city, district or county (街道, 社区, 小区, 园区, 校区, 景区, 8号, 3幢, 一区 …), and the level
 * suffixes themselves. A name containing one is never taken for an administrative unit: the few
 * genuine names that contain one (镇海区, 小店区, 石景山区 …) are starred whole, safety over
 * readability.
 */
const NOT_ADMINISTRATIVE =
  '区县市省旗盟' +
  '街道路巷弄胡同镇乡村组社小园苑校景号幢栋楼层室单元座期院庭府邸寓宅舍厦馆店场站厂超贸铺坊里桥旁边侧心片营病学所' +
  '〇零一二三四五六七八九十百千第';
/** One character of an administrative unit's name. */
const N = `(?:(?![${NOT_ADMINISTRATIVE}])[\u4e00-\u9fff])`;
const PROVINCE = `(?:${N}{2,3}省|(?:北京|天津|上海|重庆)市|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区|新疆维吾尔自治区)`;
const CITY = `(?:${N}{2,4}市|${N}{2,10}自治州)`;
const DISTRICT = `(?:${N}{2,4}?(?:新区|自治县|自治旗|区|县|旗))`;
const COUNTY_CITY = `(?:${N}{2,4}市)`;
/**
 * What follows a district in an address: the name of a street (街道) or township (镇, 乡), two to
 * six characters ending there — not a 水乡苑, 家乡路 or 城乡结合部.
 */
const THEN_STREET = `(?=[\u4e00-\u9fff]{2,6}?(?:街道|镇|乡)(?![路街巷弄道村苑园里结]))`;
/**
 * A district or county that is the whole rest of a 户籍地: a name of two or three characters not
 * ending in a direction or 新 (an estate's 紫金港东区, 朝晖新区, 电力家属区 are not districts), or a
 * county-level city of two (建德市, not 华润都市 or 城东菜市).
 */
const WHOLE_DISTRICT = `(?:${N}{1,2}(?![东西南北中新])${N}(?:区|县|旗)|${N}{2}市)`;
/**
 * A leading administrative prefix that ends at the district or county: [province] city
 * district-or-county-level-city (浙江省杭州市上城区, 杭州市建德市), province district (上海市浦东新区),
 * or a district or county alone (上城区). A bare `…市` at the start is not taken for a county-level
 * city, and nothing short of the district level is kept. Names alone cannot tell a district from
 * an estate's 东区, a 开发区, a 菜市 or a 都市: the prefix must be followed by a street or township,
 * as the district is in an address, or be the whole value with its province and city (a 户籍地
 * such as 浙江省杭州市上城区).
 */
const ADMINISTRATIVE_PREFIX = new RegExp(
  `^(?:(?:${PROVINCE}?${CITY}(?:${DISTRICT}|${COUNTY_CITY})|${PROVINCE}(?:${DISTRICT}|${COUNTY_CITY})|${DISTRICT})${THEN_STREET}` +
    `|${PROVINCE}${CITY}${WHOLE_DISTRICT}$)`,
);

/** What stands for the hidden part of an address: the same whatever its length, or none. */
const ADDRESS_STARS = '********';

function maskAddress(address: string): string {
  // Keep only a genuine administrative prefix through the district/county, which the caller's
  // jurisdiction already implies; star the street, community, estate, house and room. An address
  // that does not start with one is starred whole.
  const keep = ADMINISTRATIVE_PREFIX.exec(address)?.[0] ?? '';
  return keep + ADDRESS_STARS;
}

/**
 * Two-character surnames (复姓) common enough that a name starting with one is taken to have it; a
 * 欧 whose given name starts with 阳 shows one character more, the rarer mistake than cutting
 * 欧阳 in half.
 */
const COMPOUND_SURNAMES = new Set([
  '欧阳', '司马', '诸葛', '上官', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '宇文', '令狐', '夏侯',
  '司徒', '司空', '端木', '轩辕', '独孤', '南宫', '西门', '呼延', '澹台', '公冶', '太史', '申屠', '闻人',
  '赫连', '钟离', '宗政', '濮阳', '淳于', '拓跋', '百里', '东郭',
]);
/** What stands for the hidden part of a name: the same whatever its length. */
const NAME_STARS = '**';
/** A name of Han characters only, surname first (not 买买提·艾力, Maria Garcia). */
const HAN_NAME = /^\p{Script=Han}{2,}$/u;

/**
 * The surname of a Han name (刘**, 欧阳**), the rest as a fixed run of stars; any other name is
 * starred whole — it has no surname first to show.
 */
function maskName(name: string): string {
  if (!HAN_NAME.test(name)) return NAME_STARS;
  const chars = Array.from(name);
  const compound = chars.length > 2 && COMPOUND_SURNAMES.has(chars[0] + chars[1]);
  return chars.slice(0, compound ? 2 : 1).join('') + NAME_STARS;
}

/** What stands for the hidden part of a phone number: the same whatever its length and punctuation. */
const PHONE_STARS = '****';

/**
 * A mobile number (11 digits from 1, a +86 before them or not): its first 3 characters are the
 * network's prefix or the country code, which tell no place.
 */
const MOBILE = /^(?:\+86-?)?1\d{2}-?\d{4}-?\d{4}$/;

/**
 * The first 3 and last 4 characters of a mobile number (139****1803, +86****1803), the last 4 only of
 * any other (****1234): a landline's first 3 are its area code with or without the trunk 0 (010 and
 * 10 Beijing, 0571 and 571 Hangzhou), the city of the home, told to the Youth League, which is refused
 * every address. Only when at least four digits stay hidden; anything shorter is starred whole, as the
 * same run. A star per hidden character told the number's length, a dash or a country code among them.
 */
function maskPhone(phone: string): string {
  const shown = MOBILE.test(phone) ? 3 : 0;
  const hiddenDigits = phone.slice(shown, -4).replace(/\D/g, '').length;
  return hiddenDigits >= 4 ? phone.slice(0, shown) + PHONE_STARS + phone.slice(-4) : PHONE_STARS;
}

export function applyMask(kind: MaskKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => applyMask(kind, v));
  const s = String(value);
  switch (kind) {
    case MaskKind.ID_NUMBER:
      // The region code (the first 6 characters, where the number was issued); the rest starred.
      // Keeping the last 4 (sequence and check character) as well left only the 8 digits of the
      // birth date hidden, which a masked reader learns anyway: `age`, read once a day, turns on the
      // birthday. Without the last 4 a birth date, however learned, leaves the 3-digit sequence (the
      // check character follows from the rest): 1,000 numbers, 500 with the gender.
      return s.length > 6 ? s.slice(0, 6) + star(s.length - 6) : star(s.length);
    case MaskKind.PHONE:
      return maskPhone(s);
    case MaskKind.NAME:
      return maskName(s);
    case MaskKind.ADDRESS:
      return maskAddress(s);
    case MaskKind.SENSITIVE_CATEGORY:
      return SENSITIVE_CATEGORIES.has(s) ? NEEDS_SUPPORT : s;
  }
}
