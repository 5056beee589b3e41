import { GraphQLScalarType, Kind } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/*
 * A Date keeps milliseconds, and so does every time the hub stores. A time given finer
 * (`…29.7425Z`, as a microsecond clock such as Postgres's writes it) is cut to its millisecond,
 * which misplaces a bound by the millisecond it falls in (the events of `…29.742` were answered as
 * from `…29.7425` on), and a time recorded so is refused (`requireNotFuture`). The scalar keeps on such a Date what
 * was cut (in nanoseconds), a bound is made of it with `millisecondBound`, and two such times are
 * ordered with `isBefore`.
 */
const FINER = Symbol('nanoseconds given past the millisecond');

function marked(date: Date, text: unknown): Date {
  const fraction = typeof text === 'string' ? /T\d\d:\d\d:\d\d\.(\d+)/i.exec(text)?.[1] : undefined;
  // Nanoseconds, with any digits past the ninth as their fraction: `….7420000000001Z` is finer too.
  const finer = fraction ? Number(`${fraction.slice(3, 9).padEnd(6, '0')}.${fraction.slice(9)}`) : 0;
  if (finer) Object.defineProperty(date, FINER, { value: finer });
  return date;
}

const finerOf = (given: Date): number => (given as Date & { [FINER]?: number })[FINER] ?? 0;

/** graphql-scalars' DateTimeISO, its Dates marked when the text was finer than they keep. */
export const DateTimeISO = new GraphQLScalarType({
  ...GraphQLDateTimeISO.toConfig(),
  parseValue: (value) => marked(GraphQLDateTimeISO.parseValue(value) as Date, value),
  parseLiteral: (ast, variables) => marked(GraphQLDateTimeISO.parseLiteral(ast, variables) as Date, ast.kind === Kind.STRING ? ast.value : undefined),
});

/**
 * A bound stored times are compared with by `>=` (from) or `<` (before, to): a time given finer
 * than the millisecond is the next millisecond, which the stored times it separates fall on either
 * side of exactly as they do of the time given.
 */
export const millisecondBound = (given: Date): Date => (finerOf(given) ? new Date(given.getTime() + 1) : given);

/** Whether the time was given finer than the millisecond a Date keeps. */
export const givenFinerThanMillisecond = (given: Date): boolean => finerOf(given) > 0;

/** Whether `a` is before `b` as given, to the nanosecond. */
export const isBefore = (a: Date, b: Date): boolean => a.getTime() < b.getTime() || (a.getTime() === b.getTime() && finerOf(a) < finerOf(b));
