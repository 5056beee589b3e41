import { Department, Role } from '../src/auth/principal';
import { post } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

describe('audit anomalies on a hub whose clock is shifted (HUB_CLOCK_OFFSET_MS, a rehearsal)', () => {
  let t: TestHub;
  beforeAll(async () => {
    // Three days back: the escalation jobs run as of then, the trail is stamped with the host's time.
    t = await startTestHub({ env: { HUB_CLOCK_OFFSET_MS: String(-3 * 86_400_000), HUB_ANOMALY_FORBIDDEN_ATTEMPTS: '3' } });
  });
  afterAll(() => t.stop());

  it('scans by default the last 7 days of the trail as stamped, so the rehearsal’s own events are flagged', async () => {
    const prober = await t.token(Department.EDUCATION, { user: 'rehearsal-prober' });
    const refused: string[] = [];
    for (let i = 0; i < 3; i++) refused.push((await post(t, prober, { query: `{ policeIncidents(first: 1) { nodes { id } } }` })).requestId);
    const auditor = await t.token(Department.CIVIL_AFFAIRS, { role: Role.AUDITOR });
    const r = await t.gql(auditor, `{ auditAnomalies { kind userId count requestIds } }`, undefined, {});
    expect(r.errors).toBeUndefined();
    expect(r.data.auditAnomalies.filter((f: any) => f.userId === 'rehearsal-prober').map((f: any) => [f.kind, f.count, [...f.requestIds].sort()])).toEqual([
      ['REPEATED_FORBIDDEN', 3, [...refused].sort()],
    ]);
  });
});
