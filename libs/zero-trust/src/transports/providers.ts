import type { CanActivate, ExecutionContext, Provider } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from '../authorization/authorization.guard.js';
import { ContextRiskGuard } from '../risk/risk.guard.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import { GraphqlFieldAudit } from './graphql-fields.js';
import { ConnectionWatcher } from './connection-watcher.js';
import { LiveConnections } from './live-connections.js';
import { guardMessageHandlers } from './message-guard.js';
import { MESSAGE_GUARDS, messageAllowed, TransportPipeline } from './transport-pipeline.js';

export { TransportPipeline };

/** The message pipeline and the guards it runs (read lazily: they depend on it). @internal */
export const messageProviders: Provider[] = [
  TransportPipeline,
  GraphqlFieldAudit,
  ConnectionWatcher,
  LiveConnections,
  {
    provide: MESSAGE_GUARDS,
    useFactory: (...guards: unknown[]) => guards,
    inject: [AuthenticationGuard, AuthorizationGuard, ContextRiskGuard, RecordAuthorizationGuard],
  },
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
