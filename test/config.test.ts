import { Department, Role } from '../src/auth/principal';
import { loadConfig } from '../src/config/hub.config';
import { RegionLevel } from '../src/subgraphs/registry/registry.enums';
import { BUILT_IN_FINEST_LEVEL } from '../src/subgraphs/statistics/statistics.config';

/** The statistics settings in the one validated config: defaults, ranges, and levels only ever coarser. */
describe('config: statistics', () => {
  const statistics = (env: Record<string, string>) => loadConfig(env).statistics;

  it('defaults to k = 5, a refresh every 300 s and the built-in finest levels', () => {
    expect(statistics({})).toEqual({ suppressionK: 5, refreshSeconds: 300, finestLevels: BUILT_IN_FINEST_LEVEL });
  });

  it('reads k and the refresh interval, 0 meaning no timer', () => {
    expect(statistics({ HUB_SUPPRESSION_K: '10', HUB_STATISTICS_REFRESH_SECONDS: '0' })).toMatchObject({ suppressionK: 10, refreshSeconds: 0 });
    expect(statistics({ HUB_STATISTICS_REFRESH_SECONDS: '3600' }).refreshSeconds).toBe(3600);
  });

  it.each([
    ['HUB_SUPPRESSION_K', '1', /HUB_SUPPRESSION_K must be a whole number between 2 and 1000, got "1"/],
    ['HUB_SUPPRESSION_K', 'five', /HUB_SUPPRESSION_K must be a whole number/],
    ['HUB_STATISTICS_REFRESH_SECONDS', '5', /0 \(no timer\) or at least 10/],
    ['HUB_STATISTICS_REFRESH_SECONDS', '-1', /between 0 and 86400/],
    ['HUB_STATISTICS_REFRESH_SECONDS', '1.5', /whole number/],
  ])('refuses %s=%s at start-up', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('makes a subject’s finest level coarser, leaving the others as built in', () => {
    const { finestLevels } = statistics({ HUB_STATISTICS_FINEST_LEVELS: 'DASHBOARD=DISTRICT, EDUCATION=STREET' });
    expect(finestLevels).toEqual({
      ...BUILT_IN_FINEST_LEVEL,
      [Role.DASHBOARD]: RegionLevel.DISTRICT,
      [Department.EDUCATION]: RegionLevel.STREET,
    });
    // The same level as built in is allowed (and changes nothing).
    expect(statistics({ HUB_STATISTICS_FINEST_LEVELS: 'POLICE=GRID' }).finestLevels).toEqual(BUILT_IN_FINEST_LEVEL);
  });

  it.each([
    ['DASHBOARD=GRID', /may only make a level coarser: DASHBOARD stops at STREET at the finest, not GRID/],
    ['DASHBOARD=COMMUNITY', /may only make a level coarser/],
    ['AUDITOR=DISTRICT', /"AUDITOR" is not a subject with statistics/],
    ['TEACHER=STREET', /"TEACHER" is not a subject with statistics/],
    ['EDUCATION=CITY', /entries look like DASHBOARD=DISTRICT/],
    ['EDUCATION', /entries look like DASHBOARD=DISTRICT/],
  ])('refuses HUB_STATISTICS_FINEST_LEVELS=%s', (value, message) => {
    expect(() => loadConfig({ HUB_STATISTICS_FINEST_LEVELS: value })).toThrow(message);
  });
});

/** Client tokens: how old they may be. */
describe('config: tokens', () => {
  it('has a maximum token age of 12 h unless HUB_TOKEN_MAX_AGE_SECONDS says otherwise', () => {
    expect(loadConfig({}).jwt.maxTokenAgeSeconds).toBe(43_200);
    expect(loadConfig({ HUB_TOKEN_MAX_AGE_SECONDS: '3600' }).jwt.maxTokenAgeSeconds).toBe(3600);
    for (const bad of ['0', '59', '604801', '1.5', 'forever']) {
      expect(() => loadConfig({ HUB_TOKEN_MAX_AGE_SECONDS: bad })).toThrow(/HUB_TOKEN_MAX_AGE_SECONDS must be a whole number between 60 and 604800/);
    }
  });
});
