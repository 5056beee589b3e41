import { randomUUID } from 'node:crypto';

/**
 * A new request's id — what its `x-request-id` header and every audit event of it name: a UUID
 * of version 7 (RFC 9562), the request's millisecond first, then 74 random bits (those of a
 * version 4 UUID, whose entropy Node caches). Ids in time order keep the trail's index by request
 * id growing at its right edge, as its sequence does; random ones would write a random page of
 * that index for each event, and that page whole to the WAL after each checkpoint.
 */
export function newRequestId(): string {
  const time = Date.now().toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
