const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `s` is the text of a UUID (either case): what every id of the hub is, and what a query
 * by id may be given. Nothing but a string is one — an array of one UUID prints as that UUID, and
 * Postgres would read it as an array literal.
 */
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** A UUID as Postgres prints it and the hub records it (lower case); anything else unchanged. */
export const canonicalId = (s: string): string => (isUuid(s) ? s.toLowerCase() : s);
