import type { CerbosPlanOperand } from './query-plan.js';

/** A JSON value, as Cerbos attributes hold them. @publicApi */
export type CerbosValue =
  string | number | boolean | null | CerbosValue[] | { [key: string]: CerbosValue };

/** What one call may carry: the per-call timeout's signal. @publicApi */
export interface CerbosCallOptions {
  signal?: AbortSignal;
}

/** A principal as Cerbos receives it. @publicApi */
export interface CerbosPrincipal {
  id: string;
  roles: string[];
  attr: Record<string, CerbosValue>;
  policyVersion?: string;
  scope?: string;
}

/** The part of a Cerbos check result the adapter reads. @publicApi */
export interface CerbosCheckResult {
  actions: Record<string, string>;
  metadata?: { actions: Record<string, { matchedPolicy: string }> } | undefined;
  outputs: { action: string; source: string; value: unknown }[];
  validationErrors: unknown[];
}

/** The part of a Cerbos plan the adapter reads. @publicApi */
export type CerbosPlanResponse = { cerbosCallId: string } & (
  | { kind: 'KIND_ALWAYS_ALLOWED' | 'KIND_ALWAYS_DENIED' }
  | { kind: 'KIND_CONDITIONAL'; condition: CerbosPlanOperand }
);

/**
 * The calls the adapter makes, as `@cerbos/grpc`'s `GRPC` and `@cerbos/http`'s `HTTP` clients
 * offer them (the library imports neither: pass your client). @publicApi
 */
export interface CerbosClient {
  checkResources(
    request: {
      principal: CerbosPrincipal;
      resources: {
        resource: { kind: string; id: string; attr: Record<string, CerbosValue> } & Versioned;
        actions: string[];
      }[];
      includeMetadata?: boolean;
      requestId?: string;
    },
    options?: CerbosCallOptions,
  ): Promise<{ cerbosCallId: string; results: CerbosCheckResult[] }>;
  planResources(
    request: {
      principal: CerbosPrincipal;
      resource: { kind: string } & Versioned;
      actions: string[];
      requestId?: string;
    },
    options?: CerbosCallOptions,
  ): Promise<CerbosPlanResponse>;
  /** The PDP's health (`@cerbos/grpc` and `@cerbos/http` have it). */
  checkHealth?(request?: undefined, options?: CerbosCallOptions): Promise<{ status: string }>;
}

/** Policy version and scope of a resource. @publicApi */
export interface Versioned {
  policyVersion?: string;
  scope?: string;
}
