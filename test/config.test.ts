import { generateKeyPairSync } from 'node:crypto';
import { Client } from 'pg';
import { Department, Role } from '../src/auth/principal';
import { seedScale } from '../src/cli/seed-scale.cli';
import { loadConfig } from '../src/config/hub.config';
import { RegionLevel } from '../src/subgraphs/registry/registry.enums';
import { BUILT_IN_FINEST_LEVEL } from '../src/subgraphs/statistics/statistics.config';
import { cloneTemplateDatabase } from './support/test-hub';

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

/** The audit writer: how long the trail may keep a request waiting before it fails closed. */
describe('config: audit', () => {
  it('bounds each statement of the audit writer by 5 s unless HUB_AUDIT_TIMEOUT_MS says otherwise', () => {
    expect(loadConfig({}).audit.timeoutMs).toBe(5000);
    expect(loadConfig({ HUB_AUDIT_TIMEOUT_MS: '1500' }).audit.timeoutMs).toBe(1500);
    for (const bad of ['0', '999', '60001', '1500.5', 'never']) {
      expect(() => loadConfig({ HUB_AUDIT_TIMEOUT_MS: bad })).toThrow(/HUB_AUDIT_TIMEOUT_MS must be a whole number between 1000 and 60000/);
    }
  });

  it('logs the chain’s head every 300 s unless HUB_AUDIT_ANCHOR_SECONDS says otherwise, 0 meaning never', () => {
    expect(loadConfig({}).audit.anchorSeconds).toBe(300);
    expect(loadConfig({ HUB_AUDIT_ANCHOR_SECONDS: '0' }).audit.anchorSeconds).toBe(0);
    for (const bad of ['-1', '86401', '1.5']) {
      expect(() => loadConfig({ HUB_AUDIT_ANCHOR_SECONDS: bad })).toThrow(/HUB_AUDIT_ANCHOR_SECONDS must be a whole number between 0 and 86400/);
    }
  });
});

/** A stop: how long it waits for the requests in flight (src/server/http-listener.ts). */
describe('config: shutdown', () => {
  it('waits 20 s for the requests in flight unless HUB_SHUTDOWN_GRACE_MS says otherwise, below Kubernetes’ 30 s', () => {
    expect(loadConfig({}).shutdownGraceMs).toBe(20_000);
    expect(loadConfig({ HUB_SHUTDOWN_GRACE_MS: '0' }).shutdownGraceMs).toBe(0);
    expect(loadConfig({ HUB_SHUTDOWN_GRACE_MS: '120000' }).shutdownGraceMs).toBe(120_000);
    for (const bad of ['-1', '120001', '500.5', 'forever']) {
      expect(() => loadConfig({ HUB_SHUTDOWN_GRACE_MS: bad })).toThrow(/HUB_SHUTDOWN_GRACE_MS must be a whole number between 0 and 120000/);
    }
  });
});

/** A connection whose client takes none of its answer (src/server/http-listener.ts). */
describe('config: answers not taken', () => {
  it('closes such a connection after 60 s unless HUB_ANSWER_STALL_MS says otherwise', () => {
    expect(loadConfig({}).answerStallMs).toBe(60_000);
    expect(loadConfig({ HUB_ANSWER_STALL_MS: '1000' }).answerStallMs).toBe(1000);
    expect(loadConfig({ HUB_ANSWER_STALL_MS: '600000' }).answerStallMs).toBe(600_000);
    for (const bad of ['0', '999', '600001', '1500.5', 'never']) {
      expect(() => loadConfig({ HUB_ANSWER_STALL_MS: bad })).toThrow(/HUB_ANSWER_STALL_MS must be a whole number between 1000 and 600000/);
    }
  });
});

/** Connections one server holds open at once (src/server/http-listener.ts). */
describe('config: connections', () => {
  it('holds at most 1,000 connections open unless HUB_MAX_CONNECTIONS says otherwise', () => {
    expect(loadConfig({}).maxConnections).toBe(1_000);
    expect(loadConfig({ HUB_MAX_CONNECTIONS: '10' }).maxConnections).toBe(10);
    expect(loadConfig({ HUB_MAX_CONNECTIONS: '100000' }).maxConnections).toBe(100_000);
    for (const bad of ['0', '9', '100001', '50.5', 'unlimited']) {
      expect(() => loadConfig({ HUB_MAX_CONNECTIONS: bad })).toThrow(/HUB_MAX_CONNECTIONS must be a whole number between 10 and 100000/);
    }
  });
});

/** Distributed mode: how long the gateway waits for a remote subgraph (src/gateway/signed-remote.data-source.ts). */
describe('config: remote subgraphs', () => {
  it('waits 2 s longer than the statement limit unless HUB_SUBGRAPH_TIMEOUT_MS says otherwise, below the shutdown grace', () => {
    const config = loadConfig({});
    expect(config.subgraphTimeoutMs).toBe(17_000);
    expect(config.subgraphTimeoutMs).toBeLessThan(config.shutdownGraceMs);
    expect(loadConfig({ HUB_STATEMENT_TIMEOUT_MS: '60000' }).subgraphTimeoutMs).toBe(62_000);
    expect(loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: '1000' }).subgraphTimeoutMs).toBe(1000);
    expect(loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: '600000' }).subgraphTimeoutMs).toBe(600_000);
    for (const bad of ['0', '999', '600001', '1500.5', 'never']) {
      expect(() => loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: bad })).toThrow(/HUB_SUBGRAPH_TIMEOUT_MS must be a whole number between 1000 and 600000/);
    }
  });

  it('refuses an employment check’s fixed duration above half of the subgraph budget, which would drop its answer (red team 46)', () => {
    expect(() => loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: '2000', HUB_EMPLOYMENT_CHECK_MIN_MS: '2500' })).toThrow(/HUB_EMPLOYMENT_CHECK_MIN_MS \(2500\) must be at most half of HUB_SUBGRAPH_TIMEOUT_MS \(2000\)/);
    expect(() => loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: '2000', HUB_EMPLOYMENT_CHECK_MIN_MS: '1001' })).toThrow(/HUB_EMPLOYMENT_CHECK_MIN_MS/);
    expect(loadConfig({ HUB_SUBGRAPH_TIMEOUT_MS: '2000', HUB_EMPLOYMENT_CHECK_MIN_MS: '1000' }).workflow.employmentCheckMinMs).toBe(1000);
  });
});

/**
 * Durations: every one bounded, so that none overflows a timer (setInterval takes more than
 * 2^31 − 1 ms for 1 ms) or makes a due date an Invalid Date.
 */
describe('config: durations', () => {
  const workflow = (env: Record<string, string>) => loadConfig(env).workflow;

  it('runs the workflow jobs at most a day apart', () => {
    expect(workflow({}).jobIntervalMs).toBe(60_000);
    expect(workflow({ HUB_WORKFLOW_JOB_INTERVAL_MS: '0' }).jobIntervalMs).toBe(0);
    expect(workflow({ HUB_WORKFLOW_JOB_INTERVAL_MS: '86400000' }).jobIntervalMs).toBe(86_400_000);
    for (const bad of ['86400001', String(30 * 86_400_000), String(2 ** 31), '-1']) {
      expect(() => workflow({ HUB_WORKFLOW_JOB_INTERVAL_MS: bad })).toThrow(/HUB_WORKFLOW_JOB_INTERVAL_MS must be a whole number between 0 and 86400000/);
    }
  });

  it('takes the anomaly thresholds that count children or requests as whole numbers', () => {
    for (const name of ['HUB_ANOMALY_DISTINCT_MINORS', 'HUB_ANOMALY_FORBIDDEN_ATTEMPTS']) {
      expect(() => loadConfig({ [name]: '2.5' })).toThrow(new RegExp(`${name} must be a whole number, got "2.5"`));
      expect(() => loadConfig({ [name]: '0' })).toThrow(new RegExp(`${name} must be a number in`));
    }
    expect(loadConfig({ HUB_ANOMALY_DISTINCT_MINORS: '3', HUB_ANOMALY_FORBIDDEN_ATTEMPTS: '7' }).audit.anomalies).toMatchObject({ distinctMinors: 3, forbiddenAttempts: 7 });
  });

  it('bounds escalation deadlines, the webhook back-off and the anomaly window', () => {
    const bounds: [string, string, RegExp][] = [
      ['HUB_RED_ACK_MINUTES', '10080', /HUB_RED_ACK_MINUTES must be a number in \(0, 10080\]/],
      ['HUB_REFERRAL_ANSWER_HOURS', '720', /HUB_REFERRAL_ANSWER_HOURS must be a number in \(0, 720\]/],
      ['HUB_REFERRAL_COMPLETE_DAYS', '365', /HUB_REFERRAL_COMPLETE_DAYS must be a number in \(0, 365\]/],
      ['HUB_WEBHOOK_RETRY_BASE_MS', '3600000', /HUB_WEBHOOK_RETRY_BASE_MS must be a whole number between 1 and 3600000/],
      ['HUB_ANOMALY_WINDOW_MINUTES', '10080', /HUB_ANOMALY_WINDOW_MINUTES must be a number in \(0, 10080\]/],
    ];
    for (const [name, max, refusal] of bounds) {
      expect(() => loadConfig({ [name]: max })).not.toThrow();
      for (const bad of [String(Number(max) + 1), String(Number.MAX_SAFE_INTEGER)]) expect(() => loadConfig({ [name]: bad })).toThrow(refusal);
    }
    const c = loadConfig({ HUB_RED_ACK_MINUTES: '10080', HUB_REFERRAL_ANSWER_HOURS: '720', HUB_REFERRAL_COMPLETE_DAYS: '365', HUB_WEBHOOK_RETRY_BASE_MS: '3600000', HUB_WEBHOOK_MAX_ATTEMPTS: '20' });
    const now = Date.now();
    // The largest due dates and next delivery attempt the hub computes from them are dates.
    for (const ms of [c.workflow.redAckMinutes * 60_000, c.workflow.referralAnswerHours * 3_600_000, c.workflow.referralCompleteDays * 86_400_000, c.workflow.webhook.retryBaseMs * 2 ** (c.workflow.webhook.maxAttempts - 1)]) {
      expect(Number.isNaN(new Date(now + ms).getTime())).toBe(false);
    }
  });

  it('orders report deadlines by urgency, the handling deadline as the verification one, and takes each urgency once', () => {
    expect(workflow({ HUB_REPORT_DEADLINES: 'URGENT=30/720,HIGH=240/4320,NORMAL=1440/10080' }).reportDeadlines.URGENT).toEqual({ verifyMinutes: 30, handleMinutes: 720 });
    // Equal deadlines are allowed; an urgent report handled later than a normal one is not.
    expect(workflow({ HUB_REPORT_DEADLINES: 'URGENT=60/1440,HIGH=60/1440,NORMAL=60/1440' }).reportDeadlines.NORMAL).toEqual({ verifyMinutes: 60, handleMinutes: 1440 });
    expect(() => workflow({ HUB_REPORT_DEADLINES: 'URGENT=60/20000' })).toThrow(/HUB_REPORT_DEADLINES: a more urgent report cannot have a later handling deadline/);
    expect(() => workflow({ HUB_REPORT_DEADLINES: 'NORMAL=1440/1440' })).toThrow(/HUB_REPORT_DEADLINES: a more urgent report cannot have a later handling deadline/);
    expect(() => workflow({ HUB_REPORT_DEADLINES: 'URGENT=300/1440' })).toThrow(/HUB_REPORT_DEADLINES: a more urgent report cannot have a later verification deadline/);
    // A second entry for one urgency silently replaced the first.
    expect(() => workflow({ HUB_REPORT_DEADLINES: 'URGENT=30/60,URGENT=60/1440' })).toThrow(/HUB_REPORT_DEADLINES gives URGENT twice/);
  });

  it('bounds report deadlines at a year, and the test clock offset at 100 years', () => {
    expect(workflow({ HUB_REPORT_DEADLINES: 'NORMAL=1440/525600' }).reportDeadlines.NORMAL).toEqual({ verifyMinutes: 1440, handleMinutes: 525_600 });
    for (const bad of ['NORMAL=1440/525601', 'NORMAL=1440/99999999999999999999']) {
      expect(() => workflow({ HUB_REPORT_DEADLINES: bad })).toThrow(/HUB_REPORT_DEADLINES entries look like URGENT=60\/1440 .*at most 525600/);
    }
    expect(workflow({ HUB_CLOCK_OFFSET_MS: '-86400000' }).clockOffsetMs).toBe(-86_400_000);
    for (const bad of [String(Number.MAX_SAFE_INTEGER), '-4000000000000', '1.5']) {
      expect(() => workflow({ HUB_CLOCK_OFFSET_MS: bad })).toThrow(/HUB_CLOCK_OFFSET_MS must be a whole number between -3155760000000 and 3155760000000/);
    }
  });
});

/** Requests: how many values one response may hold (src/audit/query-cost.ts). */
describe('config: query cost', () => {
  it('refuses operations estimated above 500000 values unless HUB_MAX_QUERY_COST says otherwise', () => {
    expect(loadConfig({}).maxQueryCost).toBe(500_000);
    expect(loadConfig({ HUB_MAX_QUERY_COST: '2000000' }).maxQueryCost).toBe(2_000_000);
    for (const bad of ['0', '999', '100000001', '5000.5', 'unlimited']) {
      expect(() => loadConfig({ HUB_MAX_QUERY_COST: bad })).toThrow(/HUB_MAX_QUERY_COST must be a whole number between 1000 and 100000000/);
    }
  });
});

/** What production refuses at start-up, so that a weak deployment fails the boot instead of serving. */
describe('config: production security', () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const KEY = 'k'.repeat(32);
  const prod = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'production', HUB_JWT_PUBLIC_KEY: pem, HUB_AUDIT_KEY: KEY, ...env });

  it('refuses a plain-http JWKS URL in production, accepts https (and http in development)', () => {
    expect(() => prod({ HUB_JWKS_URL: 'http://idp.internal/jwks.json' })).toThrow(/HUB_JWKS_URL must be an https: URL in production/);
    expect(() => prod({ HUB_JWKS_URL: 'not a url' })).toThrow(/HUB_JWKS_URL must be an https: URL in production/);
    expect(prod({ HUB_JWKS_URL: 'https://idp.internal/jwks.json' }).jwt.jwksUrl).toBe('https://idp.internal/jwks.json');
    expect(loadConfig({ HUB_JWKS_URL: 'http://localhost:8080/jwks.json' }).jwt.jwksUrl).toBe('http://localhost:8080/jwks.json');
  });

  it.each(['RS256,HS256', 'HS512', 'none', 'ES256,RS257', 'RS256,'])('refuses HUB_JWT_ALGORITHMS=%s in production', (algs) => {
    expect(() => prod({ HUB_JWT_ALGORITHMS: algs })).toThrow(/HUB_JWT_ALGORITHMS takes only asymmetric algorithms in production/);
  });

  it('refuses a NODE_ENV it does not know, which would quietly run a misspelt production as development', () => {
    for (const v of ['Production', 'PRODUCTION', 'production ', 'prod']) expect(() => loadConfig({ NODE_ENV: v })).toThrow(/NODE_ENV must be production, development or test/);
    for (const v of ['development', 'test', '']) expect(loadConfig({ NODE_ENV: v }).production).toBe(false);
  });

  it('seeds no demo data in production, and refuses to be asked to (made-up records, unaudited)', () => {
    expect(prod().seedDemo).toBe(false);
    expect(prod({ HUB_SEED_DEMO: 'false' }).seedDemo).toBe(false);
    for (const v of ['true', '1']) expect(() => prod({ HUB_SEED_DEMO: v })).toThrow(/HUB_SEED_DEMO seeds made-up records and is refused with NODE_ENV=production/);
    expect(loadConfig({}).seedDemo).toBe(true);
  });

  it('refuses npm run seed:scale before it opens the database (made-up records, unaudited; --reset empties the registry)', async () => {
    const databaseUrl = await cloneTemplateDatabase();
    const counts = async () => {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query(`SELECT (SELECT count(*) FROM registry.minor)::int AS minors, (SELECT count(*) FROM registry.region)::int AS regions`)).rows[0];
      } finally {
        await c.end();
      }
    };
    const before = await counts();
    expect(before.minors).toBeGreaterThan(0);
    const env = { NODE_ENV: 'production', HUB_JWT_PUBLIC_KEY: pem, HUB_AUDIT_KEY: KEY, DATABASE_URL: databaseUrl };
    await expect(seedScale(['--minors', '10', '--districts', '1', '--reset', 'true'], env)).rejects.toThrow(/seed:scale .* is refused with NODE_ENV=production/);
    expect(await counts()).toEqual(before);
  });

  it('accepts every asymmetric algorithm in production, a key narrowing them to those it verifies', () => {
    const all = 'RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA';
    expect(loadConfig({ NODE_ENV: 'production', HUB_JWKS_URL: 'https://idp.internal/jwks.json', HUB_AUDIT_KEY: KEY, HUB_JWT_ALGORITHMS: all }).jwt.algorithms).toEqual(all.split(','));
    // The P-256 key verifies ES256 alone.
    expect(prod({ HUB_JWT_ALGORITHMS: all }).jwt.algorithms).toEqual(['ES256']);
  });

  it('refuses a HUB_GATEWAY_SECRET or HUB_AUDIT_KEY shorter than 32 bytes in production', () => {
    const urls = { HUB_SUBGRAPH_URLS: 'registry=https://registry.internal/graphql' };
    expect(() => prod({ ...urls, HUB_GATEWAY_SECRET: 'a' })).toThrow(/HUB_GATEWAY_SECRET must be at least 32 bytes in production/);
    expect(() => prod({ HUB_GATEWAY_SECRET: 'g'.repeat(31) })).toThrow(/HUB_GATEWAY_SECRET must be at least 32 bytes/);
    expect(() => prod({ HUB_AUDIT_KEY: 'a' })).toThrow(/HUB_AUDIT_KEY must be at least 32 bytes in production/);
    // Bytes of the UTF-8 text the key is used as, not characters: 10 × 3 = 30 bytes is too short.
    expect(() => prod({ HUB_AUDIT_KEY: '密'.repeat(10) })).toThrow(/HUB_AUDIT_KEY must be at least 32 bytes/);
    expect(prod({ HUB_AUDIT_KEY: '密'.repeat(11) }).audit.key).toBe('密'.repeat(11));
    expect(prod({ ...urls, HUB_GATEWAY_SECRET: 'g'.repeat(32) }).gatewaySecret).toBe('g'.repeat(32));
    // Development keeps accepting short test secrets.
    expect(loadConfig({ HUB_AUDIT_KEY: 'a', HUB_GATEWAY_SECRET: 'b' }).gatewaySecret).toBe('b');
  });

  it('refuses plain-http subgraph URLs in production (the gateway assertion would travel in clear)', () => {
    const secret = { HUB_GATEWAY_SECRET: 'g'.repeat(43) };
    expect(() => prod({ ...secret, HUB_SUBGRAPH_URLS: 'registry=https://r.internal/graphql,police=http://10.0.0.5:4001/graphql' })).toThrow(
      /HUB_SUBGRAPH_URLS must use https: in production, and entry 2 \(police\) does not/,
    );
    expect(Object.keys(prod({ ...secret, HUB_SUBGRAPH_URLS: 'registry=https://r.internal/graphql,police=https://p.internal/graphql' }).subgraphUrls)).toEqual(['registry', 'police']);
    expect(loadConfig({ HUB_SUBGRAPH_URLS: 'registry=http://localhost:4001/graphql' }).subgraphUrls).toEqual({ registry: 'http://localhost:4001/graphql' });
  });
});
