import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A generation of the summaries beside their refresh stamp, one more at every write of the stamp
 * (a trigger, so that a replica of the release before, which writes the stamp alone, counts too).
 * The table cache told newer summaries from older ones by the stamp, the database's clock: once
 * that clock stepped back, every refresh after was stamped before the one cached, and no table was
 * cached again until the clock had caught up.
 *
 * Down drops the trigger, its function and the column.
 */
export class StatisticsRefreshGeneration1795403000000 implements MigrationInterface {
  name = 'StatisticsRefreshGeneration1795403000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE statistics.refresh ADD COLUMN generation bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE FUNCTION statistics.next_generation() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.generation := OLD.generation + 1;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER refresh_generation BEFORE UPDATE ON statistics.refresh FOR EACH ROW EXECUTE FUNCTION statistics.next_generation()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER refresh_generation ON statistics.refresh`);
    await q.query(`DROP FUNCTION statistics.next_generation()`);
    await q.query(`ALTER TABLE statistics.refresh DROP COLUMN generation`);
  }
}
