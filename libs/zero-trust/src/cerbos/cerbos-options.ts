import { z } from 'zod';
import { ZeroTrustConfigurationError } from '../errors/zero-trust.error.js';
import type { CerbosClient } from './cerbos-client.js';

const isClient = (value: unknown): value is CerbosClient =>
  typeof (value as CerbosClient | undefined)?.checkResources === 'function' &&
  typeof (value as CerbosClient | undefined)?.planResources === 'function';

/** The options of the Cerbos decision point, checked once at boot. @internal */
export const cerbosOptionsSchema = z
  .object({
    /** A `@cerbos/grpc` `GRPC` or `@cerbos/http` `HTTP` client (or anything with the same calls). */
    client: z.custom<CerbosClient>(isClient, 'must be a @cerbos/grpc or @cerbos/http client'),
    /**
     * Milliseconds one call may take; past it the request fails closed (503). Loopback calls
     * take 2–16 ms at p99; the margin covers a channel's first connection and a busy host.
     * @default 200
     */
    timeout: z.number().int().min(1).max(60_000).default(200),
    /** The policy version asked for. @default the PDP's default (`default`) */
    policyVersion: z.string().min(1).optional(),
    /** The policy scope asked for (hierarchical policies), if any. */
    scope: z.string().optional(),
    /**
     * Short-lived decision cache, off by default (`ttl: 0`). Keyed on everything the decision
     * depends on except the request time: turn it on only when no policy reads the time.
     * @default { ttl: 0, max: 10000 } (ttl in seconds, at most 60)
     */
    cache: z
      .object({
        ttl: z.number().min(0).max(60).default(0),
        max: z.number().int().min(1).default(10_000),
      })
      .strict()
      .default({ ttl: 0, max: 10_000 }),
  })
  .strict();

/** Options of the Cerbos decision point (`CerbosModule.forRoot`). @publicApi */
export type CerbosOptions = z.input<typeof cerbosOptionsSchema>;
/** {@link CerbosOptions} with defaults filled in. @publicApi */
export type ResolvedCerbosOptions = z.output<typeof cerbosOptionsSchema>;

/**
 * The options with defaults, or one boot error listing every problem.
 * @throws {ZeroTrustConfigurationError} `ZT_OPTIONS_INVALID`
 * @publicApi
 */
export function validateCerbosOptions(options: unknown): ResolvedCerbosOptions {
  const parsed = cerbosOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `cerbos.${i.path.join('.')}: ${i.message}`);
  throw new ZeroTrustConfigurationError('ZT_OPTIONS_INVALID', problems);
}
