import { createRemoteJWKSet, importSPKI, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import type { KeyObject } from 'node:crypto';
import { HubConfig } from '../config/hub.config';
import { devSecret } from '../config/secrets';
import { unauthenticated } from '../errors/hub.exception';
import { Department, isDepartment, isRole, Principal, Role } from './principal';

type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey | Awaited<ReturnType<typeof importSPKI>>;

/**
 * Verifies client bearer tokens. Dev: HS256 with the generated secret. Production: the
 * department identity provider's public key or JWKS. `alg: none` and every algorithm not listed
 * are refused by jose itself.
 */
export class TokenService {
  private constructor(
    private readonly key: VerifyKey,
    private readonly algorithms: string[],
    private readonly config: HubConfig,
  ) {}

  static async create(config: HubConfig): Promise<TokenService> {
    if (config.jwt.jwksUrl) {
      return new TokenService(createRemoteJWKSet(new URL(config.jwt.jwksUrl)), config.jwt.algorithms, config);
    }
    if (config.jwt.publicKeyPem) {
      const alg = config.jwt.algorithms[0];
      return new TokenService(await importSPKI(config.jwt.publicKeyPem, alg), config.jwt.algorithms, config);
    }
    return new TokenService(new TextEncoder().encode(devSecret(config.dataDir, 'jwt-secret')), ['HS256'], config);
  }

  /** Throws UNAUTHENTICATED for anything but a valid, unexpired token with well-formed claims. */
  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthenticated('Missing bearer token');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    let payload;
    try {
      ({ payload } = await jwtVerify(match[1], this.key as never, {
        algorithms: this.algorithms,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      const expired = (e as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw unauthenticated(expired ? 'Token expired' : 'Invalid token');
    }
    const { sub, department, role, region } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || !isDepartment(department) || !isRole(role) || typeof region !== 'string' || !/^\d{6,15}$/.test(region)) {
      throw unauthenticated('Token claims must carry sub, department, role and region');
    }
    return { userId: sub, department, role, region };
  }
}

export interface DevTokenRequest {
  department: Department;
  role: Role;
  region: string;
  userId: string;
  /** Seconds until expiry; negative values make an already-expired token (tests). */
  expiresIn?: number;
}

/** Signs a dev token with the secret in the data directory (what `npm run token` prints). */
export async function signDevToken(config: HubConfig, req: DevTokenRequest): Promise<string> {
  const secret = new TextEncoder().encode(devSecret(config.dataDir, 'jwt-secret'));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ department: req.department, role: req.role, region: req.region })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(req.userId)
    .setIssuer(config.jwt.issuer)
    .setAudience(config.jwt.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (req.expiresIn ?? 8 * 3600))
    .sign(secret);
}
