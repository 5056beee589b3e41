import { Department } from '../src/auth/principal';
import { RegionDirectory } from '../src/server/region-directory';
import { post, storedEventOf } from './support/audit-helpers';
import { startTestHub, TestHub } from './support/test-hub';

/** Red team, round 4, of the hub's HTTP surface: what the trail says of answers given outside GraphQL. */
describe('HTTP surface, round 4', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  // Express answers what escapes the middleware before Apollo Server (here the look-up of the
  // token's region failing otherwise than by a timeout) with a masked 500, and the `finish`
  // fallback wrote its event as the client's mistake: INVALID, BAD_REQUEST.
  it('records an internal error answered before GraphQL as the error it is, not as a bad request', async () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const lookup = jest.spyOn(RegionDirectory.prototype, 'has').mockRejectedValue(new Error('connection to the database lost'));
    try {
      const r = await post(t, await t.token(Department.POLICE), { query: '{ regions { code } }' }, {});
      expect([r.status, r.json]).toEqual([500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }]);
      expect(await storedEventOf(t, r.requestId)).toMatchObject({ outcome: 'ERROR', errorCodes: ['INTERNAL_SERVER_ERROR'] });
    } finally {
      lookup.mockRestore();
      log.mockRestore();
    }
  });
});
