import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../../context/client-address.js';
import type { ZeroTrustRequestContext } from '../../context/request-context.js';
import type { Principal } from '../../identity/principal.interface.js';
import type { ResolvedRiskOptions } from '../../options/validate-options.js';
import { compact } from '../../utils/compact.js';
import type { RiskReason, RiskSignal, RiskSignalInput } from '../risk.types.js';

type BuiltIn = 'device' | 'geolocation' | 'usage' | 'network' | 'failures' | 'injection';

/** A built-in signal, named after its option, with that option resolved. @internal */
export abstract class BuiltInSignal<K extends BuiltIn> implements RiskSignal {
  abstract readonly name: K;

  constructor(protected readonly options: NonNullable<ResolvedRiskOptions[K]>) {}

  abstract evaluate(input: RiskSignalInput): ReturnType<RiskSignal['evaluate']>;

  /** A finding of this signal. */
  protected found(score: number, reason: string, event?: string): RiskReason {
    return compact({ signal: this.name, score, reason, event });
  }
}

/** `zt:risk:<signal>:<kind>:<id>[:<suffix>]`, the id URI-encoded (no separator). @internal */
export function principalKey(
  signal: string,
  principal: Pick<Principal, 'kind' | 'id'>,
  suffix = '',
): string {
  const base = `zt:risk:${signal}:${principal.kind}:${encodeURIComponent(principal.id)}`;
  return suffix === '' ? base : `${base}:${suffix}`;
}

/**
 * The fields of a JSON object a signal stored, or none when it is absent or corrupt (it starts
 * over). Absent reads as `{}`: no exception per request of a new principal. @internal
 */
export function storedFields(text: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text ?? '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Whether an address is in a list of addresses and CIDR blocks (`/0` too). @internal */
export function inList(entries: readonly string[]): (ip: string | undefined) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (ip) => {
    const address = ip === undefined ? '' : normalizeAddress(ip);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * Whether a service proved its key on this request (mTLS certificate naming it, or a token bound
 * to the certificate or DPoP key presented): its address moves with deployments. @internal
 */
export function isProvenWorkload(
  principal: Principal | undefined,
  { certificate, dpop }: Pick<ZeroTrustRequestContext, 'certificate' | 'dpop'>,
): boolean {
  if (principal === undefined || principal.kind === 'user') return false;
  const { 'x5t#S256': x5t, jkt } = principal.token.cnf ?? {};
  return (
    (certificate?.service !== undefined && certificate.service === principal.id) ||
    (typeof x5t === 'string' && certificate?.thumbprint === x5t) ||
    (typeof jkt === 'string' && dpop?.jkt === jkt)
  );
}
