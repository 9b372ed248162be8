/** Injection token of the validated, defaulted options. @internal */
export const ZERO_TRUST_OPTIONS = 'ZERO_TRUST:RESOLVED_OPTIONS';

/** Injection token of the Redis connection of the `redis` store, or null. @internal */
export const REDIS_STORE_CONNECTION = 'ZERO_TRUST:REDIS_STORE_CONNECTION';

/** Injection token of the rate limiter run after authentication (the throttler's). @internal */
export const ZERO_TRUST_RATE_LIMITER = 'ZERO_TRUST:RATE_LIMITER';
