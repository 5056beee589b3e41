import { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { AccessRecord } from '../audit/audit.types';
import { parsePurpose } from '../audit/purpose';
import type { GatewayContext } from './gateway.context';

type ReceiveOptions = Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0];
import { ACCESS_EXTENSION, ASSERTION_HEADER, signAssertion } from './gateway-assertion';

/**
 * Distributed mode: every fetch carries the gateway's signed statement of the caller, and every
 * answer brings back what the subgraph read and wrote, for the gateway's audit event.
 */
export class SignedRemoteDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly subgraph: string,
    private readonly secret: Uint8Array,
  ) {
    super({ url });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    if (!('principal' in context)) return; // health checks and composition carry no caller
    request.http?.headers.set(
      ASSERTION_HEADER,
      await signAssertion(this.secret, this.subgraph, {
        principal: context.principal,
        requestId: context.requestId,
        purpose: parsePurpose(context.purposeHeader),
      }),
    );
  }

  override async didReceiveResponse({ response, context }: ReceiveOptions): Promise<GatewayGraphQLResponse> {
    const record = response.extensions?.[ACCESS_EXTENSION] as AccessRecord | undefined;
    if (record && 'access' in context) context.access.merge(record);
    if (response.extensions) delete response.extensions[ACCESS_EXTENSION];
    return response;
  }
}
