import { createRemoteJWKSet, importSPKI, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import type { KeyObject } from 'node:crypto';
import { HubConfig } from '../config/hub.config';
import { devSecret } from '../config/secrets';
import { isRegionCode, isWellFormed } from '../common/validation';
import { unauthenticated } from '../errors/hub.exception';
import { Department, isDepartment, isRole, Principal, Role } from './principal';

const MAX_VERIFIED = 10_000;
/**
 * Seconds an issuer's clock may run ahead of ours: a token whose `nbf` or `iat` lies at most this
 * far in the future is accepted. `exp` and the maximum token age get no tolerance.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;

type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey | Awaited<ReturnType<typeof importSPKI>>;

/**
 * A subject the audit trail can store as it is and an auditor can read as it is: 1–200
 * characters; no unpaired surrogate and no NUL (Postgres refuses both, and one event that cannot
 * be written fails its whole group commit); no other control character, no format character
 * (zero-width, bidirectional overrides) or line separator, no space at either end — each would
 * let two ids look alike to an auditor, or one pass for the hub's own (`hub:`).
 */
export const isUserId = (sub: unknown): sub is string =>
  typeof sub === 'string' &&
  isWellFormed(sub) &&
  /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s](?:[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s])?$/u.test(sub) &&
  Array.from(sub).length <= 200;

/** Scripts whose letters pass for Latin ones (һ, υ, ս, Ь, Ꭵ): an id mixing Latin with one of them is a disguise. */
const LOOKALIKE_SCRIPTS = [/\p{Script=Greek}/u, /\p{Script=Cyrillic}/u, /\p{Script=Armenian}/u, /\p{Script=Cherokee}/u];
const LATIN = /\p{Script=Latin}/u;

/**
 * Characters that pass for those of `hub:` once compatibility forms are folded (Unicode's
 * confusables, small capitals and other scripts' letters): what `hub:` may be spelt with to the eye.
 */
const PASSES_FOR: Record<string, string> = Object.fromEntries(
  Object.entries({ h: 'ʜһհᏂꓧℎ', u: 'ᴜսυꓴʋ', b: 'ʙЬьꓐᏼƅᑲ', ':': '꞉ː∶׃⠆։︓﹕˸ꓽ᠄' }).flatMap(([plain, like]) => Array.from(like, (c) => [c, plain])),
);
/** Marks and invisible characters dropped before comparing: `h\u034Fub:` reads as `hub:`. */
const UNSEEN = /[\p{M}\p{Default_Ignorable_Code_Point}]/gu;

/** What an id's start reads as: compatibility forms folded, marks and invisible characters dropped, lookalikes replaced. */
const seenAs = (sub: string): string =>
  Array.from(sub.normalize('NFKD').replace(UNSEEN, '').toLowerCase(), (c) => PASSES_FOR[c] ?? c)
    .join('')
    .normalize('NFKC')
    .toLowerCase();

/**
 * Whether a user id is, or could pass for, one of the hub's own: reads as `hub:` in any case,
 * width or lookalike spelling (`ʜᴜʙ:`, `h\u034Fub:`, `hub꞉`), or mixes letters of two scripts
 * that look alike (`һub:` with a Cyrillic һ, `officer-lі`). A token may carry neither.
 */
export const isSystemLookalike = (sub: string): boolean =>
  seenAs(sub).startsWith(SYSTEM_USER_PREFIX) || [LATIN, ...LOOKALIKE_SCRIPTS].filter((script) => script.test(sub)).length > 1;

/**
 * User ids of the hub's own work in the trail (`hub:webhook-delivery`): no token may carry one, so
 * that an event under such an id is the hub's, and a person cannot pass their reads off as it.
 */
export const SYSTEM_USER_PREFIX = 'hub:';

/**
 * Verifies client bearer tokens. Dev: HS256 with the generated secret. Production: the
 * department identity provider's public key or JWKS. `alg: none` and every algorithm not listed
 * are refused by jose itself. Every token must say when it was issued (`iat`), and is refused
 * once older than HUB_TOKEN_MAX_AGE_SECONDS, whatever its `exp`.
 */
export class TokenService {
  /**
   * Tokens already verified, until their expiry (at most a minute): a machine client sends the
   * same token with every request, and signature checks were a measurable share of a look-up.
   * Keyed by the exact token text, so only a token that passed verification is ever found here.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

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
    const token = match[1];
    const hit = this.verified.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key as never, {
        algorithms: this.algorithms,
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: this.config.jwt.maxTokenAgeSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (e) {
      const expired = (e as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw unauthenticated(expired ? 'Token expired' : 'Invalid token');
    }
    // jose applies its tolerance to every check; expiry and age get none.
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = Math.min(payload.exp as number, (payload.iat as number) + this.config.jwt.maxTokenAgeSeconds);
    if (expiresAt <= now) throw unauthenticated('Token expired');
    const { sub, department, role, region } = payload as Record<string, unknown>;
    if (!isUserId(sub) || isSystemLookalike(sub) || !isDepartment(department) || !isRole(role) || !isRegionCode(region)) {
      throw unauthenticated('Token claims must carry sub, department, role and region');
    }
    // Frozen: the same object now serves every request bearing this token.
    const principal: Principal = Object.freeze({ userId: sub, department, role, region });
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, { principal, until: Math.min(expiresAt * 1000, Date.now() + 60_000) });
    return principal;
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
