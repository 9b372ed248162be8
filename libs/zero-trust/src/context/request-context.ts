import type { DecisionInput } from '../audit/audit.service.js';
import type { ZeroTrustAbility } from '../authorization/ability.types.js';
import type { PresentedCertificate } from '../identity/mtls/client-certificate.js';
import type { Principal } from '../identity/principal.interface.js';
import type { RiskAssessment, RiskSignalInput } from '../risk/risk.types.js';
import { peerAddressOf, type SocketRequestLike, type TrustedProxies } from './client-address.js';
import { requestIdOf } from './request-id.js';

/** What the library knows about one request, kept with the request. @publicApi */
export interface ZeroTrustRequestContext {
  /** Id of this request in audit events and `X-Request-Id`: a trusted proxy's, or a new UUID. */
  readonly requestId: string;
  /** When the library first saw the request. */
  readonly time: Date;
  /** The client's address: the TCP peer, or what a trusted proxy forwarded (`trustedProxies`). */
  readonly ip: string | undefined;
  /** The TCP peer's address (the client itself or a proxy), never read from a header. */
  readonly peer: string | undefined;
  /** HTTP method. */
  readonly method: string;
  /** Route pattern, e.g. `/invoices/:id`. */
  route: string;
  /** The verified caller, once authenticated. */
  principal?: Principal;
  /** The client certificate of the request (mTLS), once authenticated. */
  certificate?: PresentedCertificate;
  /** The DPoP proof key's RFC 7638 thumbprint, when the token was proven with DPoP. */
  dpop?: { readonly jkt: string };
  /** The caller's ability, once built. */
  ability?: ZeroTrustAbility;
  /** Records loaded by resolvers, by subject type. */
  readonly resources: Map<string, unknown>;
  /** Records loaded by resolvers, by resolver: a resolver runs at most once per request. */
  readonly resolved: Map<unknown, object>;
  /** The stages of the request's decision record, until the audit service wrote it. @internal */
  audit?: { stages: DecisionInput[]; written: boolean };
  /** Why the forwarding header could not be followed, until audited. @internal */
  forwardingProblem?: string;
  /** The risk engine's work on this request: its assessment is computed at most once. */
  risk?: {
    /** What the signals saw, and the assessment, once started. */
    assessed?: { readonly input: RiskSignalInput; readonly assessment: Promise<RiskAssessment> };
    /** Whether the findings' events were recorded. */
    reported?: boolean;
    /** Whether a failure of this request was counted against its principal. */
    failureCounted?: boolean;
  };
}
/** Where a request keeps its context (`Symbol.for`: one key across copies). @internal */
export const CONTEXT = Symbol.for('nestjs-zero-trust:context');

/** The minimal request shape shared by Express and Fastify. @internal */
export interface HttpRequestLike extends SocketRequestLike {
  raw?: SocketRequestLike['raw'] & { url?: string; rawHeaders?: string[] };
  rawHeaders?: string[];
  originalUrl?: string;
  url?: string;
  method?: string;
  ip?: string;
  params?: Record<string, string | undefined>;
  query?: Record<string, unknown>;
  body?: unknown;
  user?: unknown;
  [CONTEXT]?: ZeroTrustRequestContext;
}

/** Returns the zero-trust context of a request, creating it on first use. @internal */
export function contextOf(
  request: HttpRequestLike,
  route = '',
  proxies?: TrustedProxies,
): ZeroTrustRequestContext {
  if (request[CONTEXT] !== undefined) return request[CONTEXT];
  const peer = peerAddressOf(request);
  const client = proxies === undefined ? { address: peer } : proxies.resolveClient(request);
  return (request[CONTEXT] = {
    requestId: requestIdOf(request, proxies),
    time: new Date(),
    ip: client.address,
    peer,
    method: request.method ?? 'UNKNOWN',
    route,
    resources: new Map(),
    resolved: new Map(),
    forwardingProblem: client.problem,
  });
}

/** The target as received: Express's `originalUrl` survives mounting, Fastify's `raw.url`. @internal */
export function targetOf(request: HttpRequestLike): string | undefined {
  return request.originalUrl ?? request.raw?.url ?? request.url;
}

/** Returns the zero-trust context of a request if the guards have seen it. @publicApi */
export function getZeroTrustContext(request: object): ZeroTrustRequestContext | undefined {
  return (request as HttpRequestLike)[CONTEXT];
}
