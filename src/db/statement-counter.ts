import type { Logger } from 'typeorm';

/**
 * Counts SQL statements sent through TypeORM. Tests and benchmarks read it to prove that a page
 * of 100 costs the same number of statements as a page of 10.
 */
export class StatementCounter implements Logger {
  count = 0;

  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
