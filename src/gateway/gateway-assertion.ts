import { jwtVerify, SignJWT } from 'jose';
import type { Purpose } from '../audit/audit.types';
import { parsePurpose } from '../audit/purpose';
import { isDepartment, isRole, Principal } from '../auth/principal';
import { unauthenticated } from '../errors/hub.exception';

/** Header carrying the gateway's signed statement of who is asking (distributed mode). */
export const ASSERTION_HEADER = 'x-hub-gateway-assertion';
const ISSUER = 'hub-gateway';
/** Response extension in which a subgraph returns what it read and wrote (see AccessLog). */
export const ACCESS_EXTENSION = 'hubAccess';

export interface GatewayAssertion {
  principal: Principal;
  requestId: string;
  /** The request's declared purpose, already validated by the gateway (field grants depend on it). */
  purpose?: Purpose;
}

/**
 * A subgraph in distributed mode trusts nothing a client sends: only a short-lived token signed
 * with the gateway secret and addressed to that very subgraph.
 */
export async function signAssertion(secret: Uint8Array, subgraph: string, a: GatewayAssertion): Promise<string> {
  const { userId, department, role, region } = a.principal;
  return new SignJWT({ department, role, region, rid: a.requestId, ...(a.purpose ? { pur: a.purpose } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setAudience(`subgraph:${subgraph}`)
    .setIssuedAt()
    .setExpirationTime('15s')
    .sign(secret);
}

export async function verifyAssertion(secret: Uint8Array, subgraph: string, token: string | undefined): Promise<GatewayAssertion> {
  if (!token) throw unauthenticated('Subgraphs accept only requests signed by the gateway');
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: `subgraph:${subgraph}`,
      requiredClaims: ['sub', 'exp', 'rid'],
    });
    const { sub, department, role, region, rid, pur } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || !isDepartment(department) || !isRole(role) || typeof region !== 'string' || typeof rid !== 'string') {
      throw new Error('claims');
    }
    const p = pur as Purpose | undefined;
    const purpose = p ? parsePurpose(p.reference ? `${p.code}; ${encodeURIComponent(p.reference)}` : p.code) : undefined;
    return { principal: { userId: sub, department, role, region }, requestId: rid, purpose };
  } catch {
    throw unauthenticated('Invalid gateway signature');
  }
}
