import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { contextOfExecution as contextOf } from '../transports/transport-pipeline.js';

/** Injects the verified {@link Principal} of the request into a handler parameter. @publicApi */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, execution: ExecutionContext) => contextOf(execution)?.principal,
);

/**
 * Injects the caller's CASL ability (built for this request) into a handler parameter.
 * Available on routes with `@Can`; `undefined` on `@Public` and `@Authenticated` routes. @publicApi
 */
export const CurrentAbility = createParamDecorator(
  (_data: unknown, execution: ExecutionContext) => contextOf(execution)?.ability,
);

/** Injects the record a `@Can` resolver loaded (name the subject when several). @publicApi */
export const AuthorizedResource = createParamDecorator(
  (subject: string | undefined, execution: ExecutionContext) => {
    const resources = contextOf(execution)?.resources;
    return subject === undefined ? resources?.values().next().value : resources?.get(subject);
  },
);
