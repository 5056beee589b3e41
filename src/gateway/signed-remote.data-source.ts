import { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GatewayContext } from './gateway.context';
import { ASSERTION_HEADER, signAssertion } from './gateway-assertion';

/** Distributed mode: every fetch carries the gateway's signed statement of the caller. */
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
      await signAssertion(this.secret, this.subgraph, { principal: context.principal, requestId: context.requestId }),
    );
  }
}
