import { createHash, randomUUID } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Purpose } from '../audit/audit.types';
import { parsePurpose } from '../audit/purpose';
import { isDepartment, isRole, Principal } from '../auth/principal';
import type { SettledGrant } from '../policy/grants';
import { CLOCK_AGREEMENT_MS } from '../common/dates';
import { isUuid } from '../common/uuid';
import { isTokenSubject } from '../auth/token.service';
import { isRegionCode } from '../common/validation';
import { HubErrorCode, HubException } from '../errors/hub.exception';

/** Header carrying the gateway's signed statement of who is asking (distributed mode). */
export const ASSERTION_HEADER = 'x-hub-gateway-assertion';
const ISSUER = 'hub-gateway';
/**
 * The largest body a subgraph reads. The gateway refuses a fetch over it before sending it
 * (SignedRemoteDataSource): a fetch is not the client's text — its variables are written out again,
 * `1e20` as 21 digits — and the subgraph's refusal was taken for a lost answer.
 */
export const SUBGRAPH_BODY_LIMIT_BYTES = 1024 * 1024;
/** Response extension in which a subgraph returns what it read and wrote (see AccessLog). */
export const ACCESS_EXTENSION = 'hubAccess';

export interface GatewayAssertion {
  principal: Principal;
  requestId: string;
  /** The request's declared purpose, already validated by the gateway (field grants depend on it). */
  purpose?: Purpose;
  /**
   * The field grant that purpose names, settled by the gateway before the request ran (claim `grt`):
   * the fetches after a mutation that closed its granting record still serve under it. Absent from
   * an older gateway's assertions: the subgraph settles it itself then, as before.
   */
  grant?: SettledGrant;
  /**
   * How long the gateway waits for this fetch's answer (HUB_SUBGRAPH_TIMEOUT_MS), counted from
   * before it is sent: the subgraph commits nothing once it is spent. A span, not a time of day:
   * the two hosts' clocks may differ. Absent from an older gateway's assertions: no deadline then.
   */
  budgetMs?: number;
  /**
   * The request's instant (the gateway's `ctx.now`, claim `at`), by which the subgraph serves the
   * fetch, so that every fetch of a request counts ages and due dates alike. Absent from an older
   * gateway's assertions: the subgraph's own clock then, as before.
   */
  now?: Date;
  /**
   * How long before the signing the request's instant was taken, by the gateway's clock (claim `ageMs`): the
   * instant plus its age is the gateway's clock as it signs, which the subgraph holds to its own.
   */
  ageMs?: number;
}

/** The longest budget an assertion may carry: HUB_SUBGRAPH_TIMEOUT_MS's upper bound. */
const MAX_BUDGET_MS = 600_000;

/**
 * How long an assertion is valid after it is signed, and how far the gateway's clock as it signs
 * (the request's instant plus its age) may be from the subgraph's either way. The expiry already
 * refused a subgraph whose clock ran more than this ahead of the gateway's; a gateway whose clock
 * ran ahead would have had a subgraph serve its fetch by a day in China (an age, a deadline) that
 * the subgraph's clock has not reached. The clocks of one deployment's processes are held to agree so
 * far (CLOCK_AGREEMENT_MS), which what one instance leases on its clock relies on too.
 */
const ASSERTION_LIFETIME_S = CLOCK_AGREEMENT_MS / 1000;

/** The GraphQL request a fetch sends: as the gateway builds it, or as the subgraph parsed it from the body. */
export interface BoundRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
}

/**
 * Base64url SHA-256 of `{query, operationName, variables}`, absent or undefined members as null.
 * The gateway's body is JSON.stringify of the request and the subgraph's is JSON.parse of that
 * body, which keeps key order: both sides stringify the same values to the same text.
 */
export function requestDigest(r: BoundRequest): string {
  const canonical = JSON.stringify({ query: r.query ?? null, operationName: r.operationName ?? null, variables: r.variables ?? null });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * A subgraph in distributed mode trusts nothing a client sends: only a short-lived token signed
 * with the gateway secret, addressed to that very subgraph and bound (claim `req`) to the one
 * GraphQL request it accompanies: a captured assertion cannot carry another query or variables.
 */
export async function signAssertion(secret: Uint8Array, subgraph: string, a: GatewayAssertion, request: BoundRequest): Promise<string> {
  const { userId, department, role, region } = a.principal;
  const optional = {
    ...(a.purpose ? { pur: a.purpose } : {}),
    ...(a.grant ? { grt: { m: a.grant.minorId, f: [...a.grant.fields] } } : {}),
    ...(a.budgetMs !== undefined ? { budgetMs: a.budgetMs } : {}),
    ...(a.now ? { at: a.now.getTime(), ageMs: a.ageMs ?? 0 } : {}),
  };
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ department, role, region, rid: a.requestId, req: requestDigest(request), ...optional })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setAudience(`subgraph:${subgraph}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .setJti(randomUUID())
    .sign(secret);
}

/**
 * Assertions a subgraph has accepted, until they expire: each is good for one request only, so
 * one captured on the way cannot run its fetch again (a mutation twice, a read with no event at
 * the gateway). Per process: behind a load balancer, another instance of the subgraph has not
 * seen it.
 */
export class ReplayGuard {
  /** `jti` → expiry (seconds); inserted in about expiry order, as assertions all live 15 s. */
  private readonly seen = new Map<string, number>();

  /** Records the assertion; false when it was presented before. */
  first(jti: string, exp: number, nowSeconds = Date.now() / 1000): boolean {
    for (const [id, until] of this.seen) {
      if (until >= nowSeconds) break;
      this.seen.delete(id);
    }
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, exp);
    return true;
  }
}

/** The challenge of a subgraph's 401: its one scheme, the gateway's assertion in ASSERTION_HEADER. */
export const GATEWAY_ASSERTION_CHALLENGE = `HubGatewayAssertion header="${ASSERTION_HEADER}"`;

/** Why a subgraph refused an assertion: for its operators' log, never for the caller. */
export type RefusalReason = 'missing' | 'malformed' | 'bad signature' | 'expired' | 'wrong audience' | 'wrong issuer' | 'bad claims' | 'other request' | 'replayed' | 'clock skew';

/**
 * A refused assertion: the caller is told UNAUTHENTICATED and no more; the subgraph logs `reason`
 * (a replayed or expired one is a sign of interception). `requestId` only when the gateway's
 * signature checked out, so that a forger cannot write into the log.
 */
export class AssertionRefused extends HubException {
  constructor(
    message: string,
    readonly reason: RefusalReason,
    readonly requestId?: string,
  ) {
    super(HubErrorCode.UNAUTHENTICATED, message);
    // RFC 9110: a 401 names how to authenticate, here only as the gateway does. Apollo Server
    // answers with the headers an error carries, whether context or a plugin threw it.
    Object.assign(this.extensions, { http: { status: 401, headers: new HeaderMap([['www-authenticate', GATEWAY_ASSERTION_CHALLENGE]]) } });
  }
}

function reasonOf(e: unknown): RefusalReason {
  if (e instanceof errors.JWTExpired) return 'expired';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (e instanceof errors.JWTClaimValidationFailed) return e.claim === 'aud' ? 'wrong audience' : e.claim === 'iss' ? 'wrong issuer' : 'bad claims';
  return 'malformed';
}

/** The claims of a token the gateway signed for this subgraph, still valid; refused otherwise. */
async function signedClaims(secret: Uint8Array, subgraph: string, token: string): Promise<Record<string, unknown>> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: `subgraph:${subgraph}`,
      requiredClaims: ['sub', 'iat', 'exp', 'rid', 'req', 'jti'],
    });
    // The gateway signs every assertion for ASSERTION_LIFETIME_S: one good for longer is not its,
    // and the replay guard would hold its jti that long, out of the expiry order it clears them in.
    // A second more for a gateway of the release before (a rolling deploy), which read the clock
    // once for `iat` and again for `exp`.
    if (typeof payload.iat !== 'number' || payload.exp! - payload.iat > ASSERTION_LIFETIME_S + 1) throw new AssertionRefused('Invalid gateway signature', 'bad claims');
    return payload;
  } catch (e) {
    throw new AssertionRefused('Invalid gateway signature', reasonOf(e));
  }
}

/** An accepted assertion, with the digest of the one request it was signed for (claim `req`). */
export interface VerifiedAssertion extends GatewayAssertion {
  digest: string;
}

const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * `request` is the body the subgraph received; an assertion signed for another request is refused,
 * and with `replays`, one presented before. What then runs must still be that request (the
 * subgraph server checks it again against the request Apollo Server parsed). `clock` is the
 * subgraph's (hubClock), which the request's instant is held to.
 */
export async function verifyAssertion(
  secret: Uint8Array,
  subgraph: string,
  token: string | undefined,
  request: BoundRequest,
  replays?: ReplayGuard,
  clock: Date = new Date(),
): Promise<VerifiedAssertion> {
  if (!token) throw new AssertionRefused('Subgraphs accept only requests signed by the gateway', 'missing');
  const refuse = (reason: RefusalReason, requestId?: unknown) =>
    new AssertionRefused('Invalid gateway signature', reason, typeof requestId === 'string' ? requestId : undefined);
  const { sub, department, role, region, rid, req, pur, grt, jti, exp, budgetMs, at, ageMs } = await signedClaims(secret, subgraph, token);
  // Checked as a client token's are, though only the gateway could sign them: a region that is no
  // code ('' or '%') would be a pattern matching every child, and a subject with a NUL or an
  // unpaired surrogate could not be written to the trail, or one like `hub:` pass for the hub's own.
  if (!isTokenSubject(sub) || !isDepartment(department) || !isRole(role) || !isRegionCode(region) || typeof rid !== 'string') {
    throw refuse('bad claims', rid);
  }
  // A gateway of the release before (a rolling deploy) sends none, and its fetch runs without a deadline.
  if (budgetMs !== undefined && !(typeof budgetMs === 'number' && Number.isInteger(budgetMs) && budgetMs >= 1 && budgetMs <= MAX_BUDGET_MS)) throw refuse('bad claims', rid);
  if ((at !== undefined || ageMs !== undefined) && !(isMs(at) && isMs(ageMs))) throw refuse('bad claims', rid);
  if (isMs(at) && Math.abs(at + Number(ageMs) - clock.getTime()) > ASSERTION_LIFETIME_S * 1000) throw refuse('clock skew', rid);
  // Only a POSTed JSON request with a query is bound; anything else (batch, no query) is refused.
  if (typeof request.query !== 'string' || typeof req !== 'string' || req !== requestDigest(request)) throw refuse('other request', rid);
  if (replays && !replays.first(String(jti), Number(exp))) throw refuse('replayed', rid);
  try {
    const p = pur as Purpose | undefined;
    const purpose = p ? parsePurpose(p.reference ? `${p.code}; ${encodeURIComponent(p.reference)}` : p.code) : undefined;
    const grant = grt === undefined ? undefined : settledGrant(grt);
    if (grant === null || (grant && !purpose)) throw refuse('bad claims', rid);
    return {
      principal: { userId: sub, department, role, region },
      requestId: rid,
      purpose,
      grant,
      digest: req,
      budgetMs: budgetMs as number | undefined,
      now: isMs(at) ? new Date(at) : undefined,
    };
  } catch {
    throw refuse('bad claims', rid);
  }
}

/** A `grt` claim as the gateway signs it; null for anything else. */
function settledGrant(claim: unknown): SettledGrant | null {
  const { m, f } = (claim ?? {}) as { m?: unknown; f?: unknown };
  if (typeof m !== 'string' || !isUuid(m) || !Array.isArray(f) || !f.every((k) => typeof k === 'string')) return null;
  return { minorId: m, fields: new Set(f) };
}

/**
 * The gateway's request id in a token its signature vouches for, whatever else is wrong with the
 * request it came with: for the log line of a request refused before its assertion is checked.
 */
export async function vouchedRequestId(secret: Uint8Array, subgraph: string, token: string | undefined): Promise<string | undefined> {
  if (!token) return undefined;
  const rid = await signedClaims(secret, subgraph, token).then(
    (claims) => claims.rid,
    () => undefined,
  );
  return typeof rid === 'string' ? rid : undefined;
}
