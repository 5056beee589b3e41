import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { HubConfig } from '../../src/config/hub.config';

/**
 * An identity provider of its own (an ES256 key pair) for a production hub: the environment that
 * makes one (`env`), and tokens that provider signs for it (`sign`, checked against the hub's
 * issuer and audience).
 */
export function identityProvider() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = {
    NODE_ENV: 'production',
    HUB_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    HUB_JWT_ALGORITHMS: 'ES256',
    HUB_AUDIT_KEY: 'production-test-audit-key-0123456789',
  };
  const sign = (config: HubConfig, subject: string, claims: Record<string, string>, lifetimeSeconds = 600) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject(subject)
      .setIssuer(config.jwt.issuer)
      .setAudience(config.jwt.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(privateKey);
  };
  return { env, sign };
}
