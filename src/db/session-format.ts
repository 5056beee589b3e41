/**
 * `-c` settings every session of the hub starts with, whatever the database, role or cluster set.
 * node-postgres reads dates and times in the ISO output style only: under another DateStyle
 * ('SQL, DMY', 'German') it read every timestamptz as null and handed a `date` cast to text on as
 * '17/10/2021' — a child's birth date served in another format, `age` an internal error, deadlines
 * null, next visits computed from nulls. The hub writes only ISO 8601, which every style reads.
 */
export const SESSION_FORMAT = '-c DateStyle=ISO';
