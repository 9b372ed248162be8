import type { Provider } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from '../authorization/authorization.guard.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import { guardMessageHandlers } from './message-guard.js';
import { MESSAGE_GUARDS, MessagePipeline } from './message-pipeline.js';

/** The message pipeline and the guards it runs (read lazily: they depend on it). @internal */
export const messageProviders: Provider[] = [
  MessagePipeline,
  {
    provide: MESSAGE_GUARDS,
    useFactory: (...guards: unknown[]) => guards,
    inject: [AuthenticationGuard, AuthorizationGuard, RecordAuthorizationGuard],
  },
  {
    provide: 'ZERO_TRUST:MESSAGE_HANDLERS_GUARDED',
    useFactory: guardMessageHandlers,
    inject: [DiscoveryService, MessagePipeline],
  },
];
