import type { Provider } from '@nestjs/common';
import {
  AuthorizationGuard,
  RecordAuthorizationGuard,
} from '../authorization/authorization.guard.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import { MESSAGE_GUARDS, MessagePipeline } from './message-pipeline.js';

/** The message pipeline and the guards it runs (read lazily: they depend on it). @internal */
export const messageProviders: Provider[] = [
  MessagePipeline,
  {
    provide: MESSAGE_GUARDS,
    useFactory: (...guards: unknown[]) => guards,
    inject: [AuthenticationGuard, AuthorizationGuard, RecordAuthorizationGuard],
  },
];
