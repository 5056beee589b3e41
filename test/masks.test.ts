import { Department } from '../src/auth/principal';
import { applyMask } from '../src/policy/masks';
import { MaskKind } from '../src/policy/policy.types';
import { errorCodes, startTestHub, TestHub } from './support/test-hub';

const address = (v: string) => applyMask(MaskKind.ADDRESS, v);

/**
 * The ADDRESS mask keeps only a genuine administrative prefix (province / city / district or
 * county); a street, community (社区), estate (小区), park (园区), campus (校区), scenic area (景区),
 * house or room never shows, and an address that does not start with a district is starred whole.
 */
describe('ADDRESS mask', () => {
  it.each([
    // The reviewer's examples: no 区 of a district before the community or estate.
    ['清波街道劳动路社区12幢301室', '********'],
    ['清波街道劳动路社区3幢', '********'],
    ['劳动路5号', '********'],
    ['杭州市清波街道金色小区5幢301', '********'],
    ['浙江省杭州市上城区清波街道劳动路8号', '浙江省杭州市上城区********'],
    // The demo seed: addresses and 户籍地 start with the district.
    ['浙江省杭州市上城区清波街道清波东社区12号101室', '浙江省杭州市上城区********'],
    ['浙江省杭州市上城区', '浙江省杭州市上城区********'],
    ['杭州市上城区清波街道', '杭州市上城区********'],
    ['上城区清波街道', '上城区********'],
    ['上城区', '********'], // a district alone, with nothing after it, says too little to tell it from an estate's 区
    // 园区, 校区, 景区, 小区, numbered 区 are not districts.
    ['紫金港园区5幢', '********'],
    ['杭州市紫金园区5幢', '********'],
    ['下沙校区3号楼', '********'],
    ['杭州市下沙校区3号楼', '********'],
    ['西湖景区', '********'],
    ['金色小区5幢', '********'],
    ['翠苑一区3幢', '********'],
    ['A区3幢', '********'],
    ['上城区金色小区5幢', '********'], // a district is kept only before a street or township
    ['浙江省杭州市钱塘区下沙校区3号楼', '********'],
    // A county-level city (…市…市) and a county.
    ['浙江省杭州市建德市新安江街道', '浙江省杭州市建德市********'],
    ['杭州市建德市洋溪街道', '杭州市建德市********'],
    ['建德市新安江街道', '********'], // a bare …市 is not taken for a county-level city
    ['浙江省杭州市淳安县千岛湖镇', '浙江省杭州市淳安县********'],
    ['上海市浦东新区张江镇', '上海市浦东新区********'],
    // A second review: estates' 东区/北区, zones, markets, 都市, traditional 園 — not followed by a street.
    ['杭州市紫金港东区5幢301室', '********'],
    ['绿城东区5幢', '********'],
    ['浙江省杭州市金沙湾北区3幢', '********'],
    ['杭州市城东菜市场旁3号', '********'],
    ['杭州市钱江新城市民中心B座', '********'],
    ['杭州市华润都市花园3幢', '********'],
    ['杭州市之江度假区某某酒店', '********'],
    ['萧山工业区', '********'],
    ['杭州市朝晖新区5幢', '********'],
    ['杭州市和睦園区3幢', '********'],
    ['杭州市紫金港东区', '********'],
    // A third review: an estate as the whole rest of a province–city value; a 乡 or 镇 inside a road or estate name.
    ['浙江省杭州市朝晖新区', '********'],
    ['浙江省杭州市紫金港东区', '********'],
    ['浙江省杭州市电力家属区', '********'],
    ['浙江省杭州市城东菜市', '********'],
    ['浙江省杭州市华润都市', '********'],
    ['杭州市金沙湾北区水乡苑5幢', '********'],
    ['杭州市绿城东区家乡路5号', '********'],
    ['杭州市紫金港东区城乡结合部', '********'],
    ['浙江省杭州市建德市', '浙江省杭州市建德市********'],
    // A 户籍地 of province, city and county, as police record it.
    ['安徽省阜阳市临泉县', '安徽省阜阳市临泉县********'],
    // Not an administrative name: starred whole.
    ['华联超市旁', '********'],
    ['浙江省 杭州市上城区', '********'],
  ])('%s → %s', (value, masked) => {
    expect(address(value)).toBe(masked);
  });

  it('tells nothing of the hidden part, not even its length or whether there is one: always the same 8 stars', () => {
    for (const v of ['劳动路5号', '清波街道劳动路社区12幢301室甲', '某某', '']) expect(address(v)).toBe('********');
    for (const v of ['浙江省杭州市上城区', '浙江省杭州市上城区清波街道', '浙江省杭州市上城区清波街道清波东社区12号101室']) expect(address(v)).toBe('浙江省杭州市上城区********');
  });
});

/**
 * The NAME mask shows a Han name's surname, 复姓 included, and the same 2 stars whatever the given
 * name; a name with no surname first (a transliteration, a foreign name) is stars only.
 */
describe('NAME mask', () => {
  it.each([
    ['刘德华', '刘**'],
    ['张三', '张**'],
    ['刘一二三四', '刘**'],
    ['欧阳娜娜', '欧阳**'],
    ['欧阳娜', '欧阳**'],
    ['司马光', '司马**'],
    ['诸葛亮', '诸葛**'],
    ['上官婉儿', '上官**'],
    ['欧阳', '欧**'], // two characters: 欧 with the given name 阳, or nothing but a surname
    ['𠮷野家', '𠮷**'],
    ['Maria Garcia', '**'],
    ['Li', '**'],
    ['买买提·艾力', '**'],
    ['刘 德华', '**'],
    ['刘', '**'],
  ])('%s → %s', (value, masked) => {
    expect(applyMask(MaskKind.NAME, value)).toBe(masked);
  });
});

describe('PHONE mask', () => {
  it.each([
    ['13912341803', '139****1803'],
    // The same four stars whatever is hidden: not its length, a dash or a country code.
    ['+8613912341803', '+86****1803'],
    // Dialled with its area code: the last 4 only, the code being the city of the home.
    ['0571-88001234', '****1234'],
    ['057188001234', '****1234'],
    ['010-65123456', '****3456'],
    ['008613912341803', '****1803'],
    // Any number but a mobile shows its last 4 only: its first 3 may be an area code without its 0.
    ['571-87001234', '****1234'],
    ['10-65123456', '****3456'],
    ['88001234', '****1234'],
    ['880012345', '****2345'],
    ['8800-1234', '****1234'],
    // Fewer than 4 digits left to hide: starred whole, as the same run.
    ['1234567', '****'],
    ['110', '****'],
  ])('%s → %s', (value, masked) => {
    expect(applyMask(MaskKind.PHONE, value)).toBe(masked);
  });
});

/**
 * The ID_NUMBER mask keeps the region code alone: the birth date, which `age` tells the day it turns,
 * is 8 of the hidden characters, and the sequence and check character after it stay hidden too.
 */
describe('ID_NUMBER mask', () => {
  it.each([
    ['33010220150612371X', '330102************'],
    ['110105201001011234', '110105************'],
    ['123', '***'],
  ])('%s → %s', (value, masked) => {
    expect(applyMask(MaskKind.ID_NUMBER, value)).toBe(masked);
  });
});

describe('masks through the endpoint', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('shows the ID number’s region code alone to the departments that read it masked, beside the age; the whole number to those allowed it; none of it to the Youth League', async () => {
    const [child] = await t.sql(`SELECT id, id_number FROM registry.minor WHERE grid_code LIKE '330102002%' ORDER BY id LIMIT 1`);
    const read = `query($id: ID!) { minor(id: $id) { idNumber age } }`;
    // The region code is where the number was issued, the 户籍 district: the Youth League is refused the 户籍地.
    const league = await t.gql(await t.token(Department.YOUTH_LEAGUE), read, { id: child.id });
    expect([league.data.minor, errorCodes(league), league.errors?.[0]?.path]).toEqual([{ idNumber: null, age: expect.any(Number) }, ['FORBIDDEN'], ['minor', 'idNumber']]);
    for (const d of [Department.EDUCATION, Department.JUSTICE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), read, { id: child.id });
      expect(r.errors).toBeUndefined();
      expect(r.data.minor).toEqual({ idNumber: child.id_number.slice(0, 6) + '*'.repeat(12), age: expect.any(Number) });
    }
    for (const d of [Department.CIVIL_AFFAIRS, Department.POLICE]) {
      const r = await t.gql(await t.token(d), read, { id: child.id });
      expect([r.errors, r.data.minor.idNumber]).toEqual([undefined, child.id_number]);
    }
  });

  it('stars the whole address of a child whose address does not start with a district, for EDUCATION', async () => {
    const [child] = await t.sql(`SELECT id, current_address FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id LIMIT 1`);
    const [seeded] = await t.sql(`SELECT id, current_address FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id OFFSET 1 LIMIT 1`);
    await t.sql(`UPDATE registry.minor SET current_address = '清波街道劳动路社区3幢' WHERE id = $1`, [child.id]);
    const read = `query($a: ID!, $b: ID!) { a: minor(id: $a) { currentAddress } b: minor(id: $b) { currentAddress } }`;
    const ed = await t.gql(await t.token(Department.EDUCATION), read, { a: child.id, b: seeded.id });
    expect(ed.errors).toBeUndefined();
    expect(ed.data.a.currentAddress).toBe('********');
    // The seed's addresses start with the district, which a school still sees.
    expect(seeded.current_address.startsWith('浙江省杭州市上城区')).toBe(true);
    expect(ed.data.b.currentAddress).toBe('浙江省杭州市上城区********');
    const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), read, { a: child.id, b: seeded.id });
    expect(ca.data).toEqual({ a: { currentAddress: '清波街道劳动路社区3幢' }, b: { currentAddress: seeded.current_address } });
  });
  it('shows a guardian’s surname and 2 stars to EDUCATION, whatever the name’s length: 复姓 whole, a name without a surname first as stars only', async () => {
    const guardians = await t.sql(`SELECT g.id, g.minor_id FROM registry.guardian g JOIN registry.minor m ON m.id = g.minor_id
      WHERE m.grid_code LIKE '330102001%' ORDER BY g.id LIMIT 4`);
    const names = ['欧阳娜娜', '欧阳娜', 'Maria Garcia', '刘一二三四'];
    for (const [i, g] of guardians.entries()) await t.sql(`UPDATE registry.guardian SET name = $2 WHERE id = $1`, [g.id, names[i]]);
    const read = `{ ${guardians.map((g, i) => `m${i}: minor(id: "${g.minor_id}") { guardians { id name } }`).join(' ')} }`;
    const shown = async (department: Department) => {
      const r = await t.gql(await t.token(department), read, {});
      expect(r.errors).toBeUndefined();
      return guardians.map((g, i) => r.data[`m${i}`].guardians.find((x: { id: string }) => x.id === g.id).name);
    };
    expect(await shown(Department.EDUCATION)).toEqual(['欧阳**', '欧阳**', '**', '刘**']);
    expect(await shown(Department.CIVIL_AFFAIRS)).toEqual(names);
  });

  it('shows EDUCATION a guardian’s phone as the same four stars between its ends, whatever their number hides', async () => {
    const [{ id }] = await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102004%' ORDER BY id LIMIT 1`);
    const phones = ['13912341803', '0571-87001234', '+8613912341803', '87001234'];
    const civil = await t.token(Department.CIVIL_AFFAIRS);
    const added: string[] = [];
    for (const phone of phones) {
      const g = await t.gql(civil, `mutation($id: ID!, $p: String) { addGuardian(minorId: $id, input: { relationship: FATHER, name: "刘大海", phone: $p, situation: NORMAL }) { id } }`, { id, p: phone });
      expect(g.errors).toBeUndefined();
      added.push(g.data.addGuardian.id);
    }
    const shown = async (department: Department) => {
      const r = await t.gql(await t.token(department), `query($id: ID!) { minor(id: $id) { guardians { id phone } } }`, { id });
      expect(r.errors).toBeUndefined();
      return added.map((gid) => r.data.minor.guardians.find((g: { id: string }) => g.id === gid).phone);
    };
    expect(await shown(Department.EDUCATION)).toEqual(['139****1803', '****1234', '+86****1803', '****1234']);
    expect(await shown(Department.CIVIL_AFFAIRS)).toEqual(phones);
  });

  it('lists a child’s categories in the order of what a department that sees them masked is shown', async () => {
    const children = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102001%' ORDER BY id OFFSET 2 LIMIT 4`)).map((m) => m.id as string);
    const pairs = [['DISABILITY', 'CRIME_VICTIM'], ['DROPOUT', 'INCARCERATED_PARENT'], ['DISABILITY', 'DOMESTIC_VIOLENCE'], ['DROPOUT', 'DOMESTIC_VIOLENCE']];
    for (const [i, id] of children.entries()) {
      await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1`, [id]);
      for (const c of pairs[i]) await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, $2, current_date)`, [id, c]);
    }
    const read = `query($ids: [ID!]!) { ${children.map((_, i) => `c${i}: minor(id: $ids[${i}]) { categories { category } }`).join(' ')} }`.replace(/\$ids\[(\d)\]/g, (_, i) => `"${children[Number(i)]}"`).replace('query($ids: [ID!]!) ', '');
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), read, {});
      expect(r.errors).toBeUndefined();
      const shown = children.map((_, i) => r.data[`c${i}`].categories.map((c: { category: string }) => c.category));
      // The same visible category beside NEEDS_SUPPORT, in the same place, whichever sensitive category it folds.
      expect(shown).toEqual([
        ['DISABILITY', 'NEEDS_SUPPORT'],
        ['DROPOUT', 'NEEDS_SUPPORT'],
        ['DISABILITY', 'NEEDS_SUPPORT'],
        ['DROPOUT', 'NEEDS_SUPPORT'],
      ]);
    }
  });

  it('lists a child’s masked categories by date, not by the sensitive categories they fold: two NEEDS_SUPPORT come alike whichever they are', async () => {
    // Both have DOMESTIC_VIOLENCE since 2024-01-01 (known to the women's federation from its own support records); a
    // second sensitive category since 2024-06-01, INCARCERATED_PARENT (after DV by name) for one, CRIME_VICTIM (before it) for the other.
    const [a, b] = (await t.sql(`SELECT id FROM registry.minor WHERE grid_code LIKE '330102003%' ORDER BY id LIMIT 2`)).map((m) => m.id as string);
    for (const [id, other] of [[a, 'INCARCERATED_PARENT'], [b, 'CRIME_VICTIM']]) {
      await t.sql(`DELETE FROM registry.minor_category WHERE minor_id = $1`, [id]);
      await t.sql(`INSERT INTO registry.minor_category (minor_id, category, identified_at) VALUES ($1, 'DOMESTIC_VIOLENCE', '2024-01-01'), ($1, $2, '2024-06-01')`, [id, other]);
    }
    const read = `{ a: minor(id: "${a}") { categories { category identifiedAt } } b: minor(id: "${b}") { categories { category identifiedAt } } }`;
    for (const d of [Department.EDUCATION, Department.YOUTH_LEAGUE, Department.WOMENS_FEDERATION]) {
      const r = await t.gql(await t.token(d), read, {});
      expect(r.errors).toBeUndefined();
      const shown = [{ category: 'NEEDS_SUPPORT', identifiedAt: '2024-01-01' }, { category: 'NEEDS_SUPPORT', identifiedAt: '2024-06-01' }];
      expect(r.data).toEqual({ a: { categories: shown }, b: { categories: shown } });
    }
    const ca = await t.gql(await t.token(Department.CIVIL_AFFAIRS), read, {});
    expect(ca.data.a.categories.map((c: { category: string }) => c.category)).toEqual(['DOMESTIC_VIOLENCE', 'INCARCERATED_PARENT']);
    expect(ca.data.b.categories.map((c: { category: string }) => c.category)).toEqual(['DOMESTIC_VIOLENCE', 'CRIME_VICTIM']);
  });
});
