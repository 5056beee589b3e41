import { Department } from '../src/auth/principal';
import { MAX_PIPELINED } from '../src/server/http-listener';
import { statusForUser, storedEventOf } from './support/audit-helpers';
import { graphqlRequest, openConnection, responsesIn } from './support/raw-socket';
import { startTestHub, type TestHub } from './support/test-hub';

jest.setTimeout(180_000);

/**
 * Red team 37: authentication and transport — the listener's refusals before a request starts,
 * and the events they leave.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('transport and authentication (redteam37)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it(`a request refused behind ${MAX_PIPELINED} pipelined ones is audited as its caller's, as every other refusal of a verified token is`, async () => {
    const user = 'pipeline-caller-37';
    const token = await t.token(Department.CIVIL_AFFAIRS, { user });
    const connection = await openConnection(t.hub.port);
    connection.socket.write(graphqlRequest(token, '{ minors(first: 1) { totalCount } }').repeat(MAX_PIPELINED + 1));
    for (let i = 0; i < 200 && !connection.closed; i++) await sleep(50);
    const answers = responsesIn(Buffer.concat(connection.received));
    expect(answers.map((a) => a.status)).toEqual([...Array(MAX_PIPELINED).fill(200), 400]);
    const refusal = await storedEventOf(t, answers[MAX_PIPELINED].headers['x-request-id']);
    expect(refusal.errorCodes).toEqual(['BAD_REQUEST']);
    // The same caller's 405 (a GET) names them: the refusal of their 9th request must too.
    expect(refusal.userId).toBe(user);
  });

  it('refuses a user id whose half-width Hangul letters stand beside Latin for a hyphen or an o, as it refuses half-width kana\'s ｰ', async () => {
    // Pinned: a Korean name beside Latin is an id, and the half-width prolonged sound mark drawn as a hyphen is not.
    expect(await statusForUser(t, 'kim-김민준')).toBe(200);
    expect(await statusForUser(t, 'police\uFF70officer\uFF701')).toBe(401);
    // U+FFDA HALFWIDTH HANGUL LETTER EU, a horizontal stroke at a Latin letter's width, is drawn as `-`;
    // U+FFB7 HALFWIDTH HANGUL LETTER IEUNG, a circle at a Latin letter's width, as `o`.
    expect({
      hyphen: await statusForUser(t, 'police\uFFDAofficer\uFFDA1'),
      o: await statusForUser(t, 'p\uFFB7lice-officer-1'),
    }).toEqual({ hyphen: 401, o: 401 });
    // Beside Latin, the compatibility jamo alone too (ㅡ EU for `-`, ㅣ I for `l`); a Korean name is in syllables.
    expect({ eu: await statusForUser(t, 'police\u3161officer\u31611'), i: await statusForUser(t, 'police-officer-\u3163') }).toEqual({ eu: 401, i: 401 });
  });
});
