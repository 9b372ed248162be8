import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import type { DiscoveryService } from '@nestjs/core';
import { messageAllowed, type MessagePipeline } from './message-pipeline.js';

/** Nest's metadata key of `@MessagePattern` and `@EventPattern` handlers. */
const PATTERN_METADATA = 'microservices:pattern';

/** Whether a controller method is a route: an HTTP route or a message handler. @internal */
export const isRoute = (handler: unknown): handler is (...args: never[]) => unknown =>
  typeof handler === 'function' &&
  [METHOD_METADATA, PATTERN_METADATA].some((key) => Reflect.hasMetadata(key, handler));

/** Runs the message pipeline on a handler the global guards did not already decide. */
class MessageGuard implements CanActivate {
  constructor(private readonly pipeline: MessagePipeline) {}

  canActivate(execution: ExecutionContext): boolean | Promise<boolean> {
    return messageAllowed(execution) || this.pipeline.canActivate(execution);
  }
}

/**
 * Puts the message pipeline on every message handler as a handler-level guard, at boot, before a
 * microservice registers its handlers. A hybrid app connected without `inheritAppConfig` runs no
 * global guard on messages; handler-level guards run whatever the configuration, so no message
 * handler is ever left unguarded. (An instance, not a class: Nest resolves guard classes only
 * from what it scanned.) @internal
 */
export function guardMessageHandlers(discovery: DiscoveryService, pipeline: MessagePipeline): true {
  const guard = new MessageGuard(pipeline);
  for (const { metatype } of discovery.getControllers()) {
    const prototype = (metatype as { prototype?: Record<string, unknown> } | null)?.prototype;
    if (prototype === undefined) continue;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof handler !== 'function' || !Reflect.hasMetadata(PATTERN_METADATA, handler))
        continue;
      // Another app of this process may have guarded the same class: its guard gives way.
      const guards = ((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]).filter(
        (existing) => !(existing instanceof MessageGuard),
      );
      Reflect.defineMetadata(GUARDS_METADATA, [...guards, guard], handler);
    }
  }
  return true;
}
