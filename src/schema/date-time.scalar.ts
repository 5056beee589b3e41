import { GraphQLScalarType, Kind } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/*
 * A Date keeps milliseconds, and so does every time the hub stores. A time given finer
 * (`…29.7425Z`, as a microsecond clock such as Postgres's writes it) is cut to its millisecond,
 * which misplaces a bound by the millisecond it falls in (the events of `…29.742` were answered as
 * from `…29.7425` on), and a time recorded so is refused (`requireNotFuture`). The scalar keeps on such a Date what
 * was cut (its digits), a bound is made of it with `millisecondBound`, and two such times are
 * ordered with `isBefore`.
 */
const FINER = Symbol('digits given past the millisecond');

function marked(date: Date, text: unknown): Date {
  const fraction = typeof text === 'string' ? /T\d\d:\d\d:\d\d\.(\d+)/i.exec(text)?.[1] : undefined;
  // The digits past the millisecond, as text, trailing zeros dropped: `….7420000000001Z` is finer
  // too, however far on its digit lies — read as a number, one 330 places on was 0.
  const finer = fraction ? fraction.slice(3).replace(/0+$/, '') : '';
  if (finer) Object.defineProperty(date, FINER, { value: finer });
  return date;
}

const finerOf = (given: Date): string => (given as Date & { [FINER]?: string })[FINER] ?? '';

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
export const millisecondBound = (given: Date): Date => (finerOf(given) !== '' ? new Date(given.getTime() + 1) : given);

/** Whether the time was given finer than the millisecond a Date keeps. */
export const givenFinerThanMillisecond = (given: Date): boolean => finerOf(given) !== '';

/**
 * Whether `a` is before `b` as given, to the last digit: within one millisecond, the digits past it
 * (no trailing zeros) order as text (`49` before `5`).
 */
export const isBefore = (a: Date, b: Date): boolean => a.getTime() < b.getTime() || (a.getTime() === b.getTime() && finerOf(a) < finerOf(b));
