import { Client } from 'pg';
import { anchorsIn } from '../src/audit/audit.anchor';
import { Department } from '../src/auth/principal';
import { cloneTemplateDatabase, startTestHub } from './support/test-hub';

/**
 * A stop anchors the chain's head: the events written since the last periodic anchor (up to
 * HUB_AUDIT_ANCHOR_SECONDS of them) are otherwise anchored by nothing while the hub is down, and the
 * next start anchors whatever head it finds — a tail cut off meanwhile included.
 */
describe('stopping the process that serves the audit subgraph', () => {
  it('logs the head of the chain as it stops, after the last event of its requests', async () => {
    const logged: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    try {
      const t = await startTestHub({ env: { HUB_AUDIT_ANCHOR_SECONDS: '86400' } });
      let stopped = false;
      try {
        const token = await t.token(Department.CIVIL_AFFAIRS);
        for (let i = 0; i < 3; i++) expect((await t.gql(token, `{ minors(first: 2) { edges { node { id name } } } }`)).errors).toBeUndefined();
        // The day's timer anchored at most the head it found at start, before these reads.
        expect(anchorsIn(logged.join('\n'))).toHaveLength(0);
        stopped = true;
        await t.stop();
      } finally {
        if (!stopped) await t.stop();
      }

      const c = new Client({ connectionString: t.databaseUrl });
      await c.connect();
      const [headNow] = (await c.query(`SELECT seq::int AS seq, hash FROM audit.event ORDER BY seq DESC LIMIT 1`)).rows;
      await c.end();
      expect(headNow.seq).toBeGreaterThanOrEqual(3);
      expect(anchorsIn(logged.join('\n')).at(-1)).toEqual(headNow);
    } finally {
      log.mockRestore();
    }
  });
});

/**
 * The demo seed of a department attaches made-up records (incidents, sentences, prevention cases) to
 * every child the registry holds: started with HUB_SEED_DEMO on a registry it did not seed (a pilot
 * or a hub left without NODE_ENV=production), it wrote them onto real children, unaudited, for every
 * department whose tables were still empty.
 */
describe('the demo seed on a registry that holds children already', () => {
  it('seeds no department, however empty its tables', async () => {
    const url = await cloneTemplateDatabase();
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`TRUNCATE police.incident, police.guardian_admonishment, police.identity_verification, justice.incarcerated_parent, justice.community_correction, justice.legal_aid_case`);
      const t = await startTestHub({ databaseUrl: url, env: { HUB_SEED_DEMO: 'true' } });
      await t.stop();
      const counts = (await c.query(`SELECT (SELECT count(*)::int FROM police.incident) AS incidents, (SELECT count(*)::int FROM justice.incarcerated_parent) AS sentences`)).rows[0];
      expect(counts).toEqual({ incidents: 0, sentences: 0 });
    } finally {
      await c.end();
    }
  });
});
