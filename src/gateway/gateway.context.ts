import type { Principal } from '../auth/principal';

/** What the gateway knows of a request: the verified caller and an id for the audit trail. */
export interface GatewayContext {
  requestId: string;
  principal: Principal;
}
