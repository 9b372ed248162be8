import type { CanActivate, ExecutionContext, Provider } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GraphqlFieldAudit } from './graphql-fields.js';
import { ConnectionWatcher } from './connection-watcher.js';
import { LiveConnections } from './live-connections.js';
import { guardMessageHandlers } from './message-guard.js';
import { messageAllowed, TransportPipeline } from './transport-pipeline.js';

export { TransportPipeline };

/** The transports' pipeline, its boot-time checks and the watcher of connections. @internal */
export const messageProviders: Provider[] = [
  TransportPipeline,
  GraphqlFieldAudit,
  ConnectionWatcher,
  LiveConnections,
  {
    provide: 'ZERO_TRUST:MESSAGE_HANDLERS_GUARDED',
    useFactory: guardMessageHandlers,
    inject: [DiscoveryService, TransportPipeline],
  },
];

/**
 * A global guard as Nest runs it in every context: the guard itself on HTTP; on a message, the
 * verdict of the message pipeline (which ran it on its HTTP view). None: allow on HTTP. @internal
 */
export function onHttp(guard?: CanActivate): CanActivate {
  return {
    canActivate: (execution: ExecutionContext) =>
      execution.getType() === 'http'
        ? (guard?.canActivate(execution) ?? true)
        : messageAllowed(execution),
  };
}

/** The first global guard: authentication on HTTP, the whole pipeline on a message. @internal */
export function firstGuard(authentication: CanActivate, pipeline: TransportPipeline): CanActivate {
  return {
    canActivate: (execution: ExecutionContext) =>
      execution.getType() === 'http'
        ? authentication.canActivate(execution)
        : execution.getType<string>() === 'graphql'
          ? pipeline.operation(execution)
          : execution.getType() === 'ws'
            ? pipeline.socketMessage(execution)
            : pipeline.canActivate(execution),
  };
}
