import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DifficultyCategory, Gender, RegionLevel, RiskLevel } from '../../../registry/registry.enums';
import { STALE_INTERVALS } from '../../statistics.refresh';

/** What a table breaks counts down by, besides the region level. */
export enum StatisticsDimension {
  RISK_LEVEL = 'RISK_LEVEL',
  CATEGORY = 'CATEGORY',
  AGE_BAND = 'AGE_BAND',
  GENDER = 'GENDER',
}

export enum StatisticsMeasure {
  /** Minors under 18 in the registry. */
  MINORS = 'MINORS',
  /** Minors whose next visit (分级保护) was due before the refresh; by region and risk level only; FORBIDDEN to those who may not read `Minor.nextVisitDue`. */
  OVERDUE_VISITS = 'OVERDUE_VISITS',
}

/** The risk level of the latest assessment, or none yet. */
export enum StatisticsRiskLevel {
  RED = 'RED',
  ORANGE = 'ORANGE',
  YELLOW = 'YELLOW',
  BLUE = 'BLUE',
  UNASSESSED = 'UNASSESSED',
}

/** Age on the refresh date: infancy, pre-school, primary, junior secondary, senior secondary. */
export enum AgeBand {
  AGE_0_2 = 'AGE_0_2',
  AGE_3_5 = 'AGE_3_5',
  AGE_6_11 = 'AGE_6_11',
  AGE_12_14 = 'AGE_12_14',
  AGE_15_17 = 'AGE_15_17',
}

/** Monthly event counts. */
export enum TrendSeries {
  NEW_CASES = 'NEW_CASES',
  ASSESSMENTS = 'ASSESSMENTS',
  VISITS = 'VISITS',
  /** 强制报告, in the month they were received. */
  REPORTS = 'REPORTS',
  /** 转介, in the month they were created. */
  REFERRALS = 'REFERRALS',
}

registerEnumType(StatisticsDimension, { name: 'StatisticsDimension' });
registerEnumType(StatisticsMeasure, { name: 'StatisticsMeasure' });
registerEnumType(StatisticsRiskLevel, { name: 'StatisticsRiskLevel', description: 'Latest risk level, UNASSESSED if none' });
registerEnumType(AgeBand, { name: 'AgeBand' });
registerEnumType(TrendSeries, { name: 'TrendSeries' });

@ObjectType({ description: 'A count that may be suppressed: then it has no value and displays "x", whether it is small or hidden to protect another cell' })
export class CountCell {
  @Field(() => Int, { nullable: true, description: 'Null when suppressed' })
  value: number | null;

  @Field()
  suppressed: boolean;

  @Field({ description: 'The value, or "x" when suppressed' })
  display: string;
}

@ObjectType({ description: 'One cell of a statistics table: a region and one value of each requested dimension' })
export class StatisticsCell {
  @Field()
  regionCode: string;

  @Field()
  regionName: string;

  @Field(() => StatisticsRiskLevel, { nullable: true, description: 'Set when the table is by RISK_LEVEL' })
  riskLevel: StatisticsRiskLevel | null;

  @Field(() => DifficultyCategory, { nullable: true, description: 'Set when the table is by CATEGORY' })
  category: DifficultyCategory | null;

  @Field(() => AgeBand, { nullable: true, description: 'Set when the table is by AGE_BAND' })
  ageBand: AgeBand | null;

  @Field(() => Gender, { nullable: true, description: 'Set when the table is by GENDER' })
  gender: Gender | null;

  @Field(() => CountCell)
  count: CountCell;
}

@ObjectType({ description: 'Counts by region (at one level) and the requested dimensions, small cells suppressed' })
export class StatisticsTable {
  @Field(() => RegionLevel)
  level: RegionLevel;

  @Field(() => StatisticsMeasure)
  measure: StatisticsMeasure;

  @Field(() => [StatisticsDimension])
  dimensions: StatisticsDimension[];

  @Field({ description: 'True when sensitive categories are counted as NEEDS_SUPPORT at this level' })
  categoriesFolded: boolean;

  @Field({ description: 'The summaries’ refresh time: counts are as of then' })
  refreshedAt: Date;

  @Field(() => [StatisticsCell], { description: 'Every combination, in region code order; no row is left out for being zero' })
  cells: StatisticsCell[];

  @Field(() => CountCell, { description: 'The measure over the whole jurisdiction' })
  total: CountCell;
}

@ObjectType({ description: 'A rate with its numerator and denominator; suppressed when any of them or the difference is small' })
export class StatisticsRate {
  @Field(() => CountCell)
  numerator: CountCell;

  @Field(() => CountCell)
  denominator: CountCell;

  @Field(() => Float, { nullable: true, description: 'Percentage with one decimal, never 100 short of every one nor 0 above none; null when suppressed' })
  percent: number | null;

  @Field()
  suppressed: boolean;

  @Field({ description: 'e.g. "87.5%", or "suppressed"' })
  display: string;
}

@ObjectType()
export class RiskLevelRate {
  @Field(() => RiskLevel)
  riskLevel: RiskLevel;

  @Field(() => StatisticsRate)
  rate: StatisticsRate;
}

@ObjectType({ description: 'The plans’ indicators (排查分类率、干预率、救助率, visits, reports and referrals on time) for one region' })
export class RegionRates {
  @Field()
  regionCode: string;

  @Field()
  regionName: string;

  @Field(() => StatisticsRate, { description: '排查分类率: minors with a difficulty category or a risk assessment, among all minors' })
  screening: StatisticsRate;

  @Field(() => StatisticsRate, {
    nullable: true,
    description: '干预率: RED/ORANGE minors visited on or after their latest assessment, among RED/ORANGE minors; null with FORBIDDEN for those who may not read visits',
  })
  intervention: StatisticsRate | null;

  @Field(() => StatisticsRate, {
    nullable: true,
    description: '救助率: minors with a category who have an assessment and a visit, among minors with a category; null with FORBIDDEN for those who may not read visits',
  })
  assistance: StatisticsRate | null;

  @Field(() => [RiskLevelRate], {
    nullable: true,
    description: 'Per risk level: minors whose next visit is not overdue, among minors at that level; null with FORBIDDEN for those who may not read visits',
  })
  visitsOnTime: RiskLevelRate[] | null;

  @Field(() => StatisticsRate, {
    description: '强制报告: reports verified and concluded by their deadlines, among reports concluded or past a deadline',
  })
  reportsHandledInTime: StatisticsRate;

  @Field(() => StatisticsRate, {
    description: '转介: referrals answered (and, if accepted, completed) by their deadlines, among referrals closed or past a deadline',
  })
  referralsHandledInTime: StatisticsRate;
}

@ObjectType()
export class StatisticsRates {
  @Field(() => RegionLevel)
  level: RegionLevel;

  @Field()
  refreshedAt: Date;

  @Field(() => [RegionRates], { description: 'Regions of the level in the jurisdiction, by code' })
  regions: RegionRates[];

  @Field(() => RegionRates, { description: 'The whole jurisdiction' })
  total: RegionRates;
}

@ObjectType()
export class TrendPoint {
  @Field({ description: 'YYYY-MM, a calendar month in China (UTC+8), as the events are counted' })
  month: string;

  @Field(() => TrendSeries)
  series: TrendSeries;

  @Field(() => CountCell)
  count: CountCell;
}

@ObjectType({ description: 'Events per calendar month over the whole jurisdiction' })
export class MonthlyTrend {
  @Field()
  refreshedAt: Date;

  @Field(() => [TrendPoint], { description: 'Every month of the window × every series the caller may read (VISITS only for those who read visits), oldest first' })
  points: TrendPoint[];
}

@ObjectType({ description: 'How current the statistics are' })
export class StatisticsFreshness {
  @Field({ description: 'When the summaries were last recomputed from the registry' })
  refreshedAt: Date;

  @Field(() => Int, { description: 'How often the serving process recomputes the summaries; 0: it does not (another process may)' })
  refreshIntervalSeconds: number;

  @Field(() => Boolean, {
    nullable: true,
    description: `True when the summaries are older than ${STALE_INTERVALS} refresh intervals: refreshes failed or stopped, and the figures are out of date; null when the serving process runs no refresh timer (it cannot tell)`,
  })
  stale: boolean | null;
}

@ObjectType({ description: 'What the caller’s statistics cover and how finely' })
export class StatisticsScope {
  @Field()
  regionCode: string;

  @Field()
  regionName: string;

  @Field(() => RegionLevel)
  level: RegionLevel;

  @Field(() => RegionLevel, { description: 'The finest level the caller may break counts down to' })
  finestLevel: RegionLevel;

  @Field(() => Int, { description: 'Counts below this are suppressed' })
  suppressionK: number;
}
