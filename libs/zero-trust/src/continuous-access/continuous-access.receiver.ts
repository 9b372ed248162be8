import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { Counter } from 'prom-client';
import { AuditService } from '../audit/audit.service.js';
import type { ZeroTrustRequestContext } from '../context/request-context.js';
import { JwksKeySource } from '../identity/jwks-key-source.js';
import { RevocationService } from '../identity/revocation.service.js';
import { ZeroTrustMetrics } from '../metrics/zero-trust.metrics.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { REPLAY_KEY_PREFIX, SharedStateStore } from '../stores/shared-state-store.interface.js';
import { isRecord } from '../utils/http-json.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { assuranceKey, deviceKey } from './continuous-access.signal.js';
import { SignalRefusal, verifySignalToken, type SignalClaims } from './signal-token.js';

const BACKCHANNEL_LOGOUT = 'http://schemas.openid.net/event/backchannel-logout';
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const SSF = 'https://schemas.openid.net/secevent/ssf/event-type/';
/** Longest `sid`, `sub` or device id taken from a signal (as from an access token). */
const MAX_ID = 512;

/** What the receiver did with an accepted signal, for the audit trail. */
interface Applied {
  readonly action: 'session_expired' | 'session_assurance_lowered' | 'session_device_compliance';
  readonly reason: string;
}

/** The subject a logout token or SET names, in this API's terms. */
type Subject = { sub?: string; sid?: string; device?: string };

type Resolved = ResolvedZeroTrustOptions;
type SharedSignals = NonNullable<NonNullable<Resolved['continuousAccess']>['sharedSignals']>;

/**
 * Applies what the issuer signals after a token was issued: OpenID Connect back-channel logouts
 * and Shared Signals (CAEP) events. Every outcome is audited; the store is written before the
 * sender hears success, so an accepted signal is never lost. @internal
 */
@Injectable()
export class ContinuousAccessReceiver {
  private readonly logger = new Logger('ZeroTrust');
  private readonly transmitterKeys: JWTVerifyGetKey | undefined;
  private readonly counter: Counter<'receiver' | 'event' | 'result'>;

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: Resolved,
    private readonly keys: JwksKeySource,
    private readonly revocations: RevocationService,
    @Inject(SharedStateStore) private readonly state: SharedStateStore,
    private readonly audit: AuditService,
    metrics: ZeroTrustMetrics,
  ) {
    const signals = options.continuousAccess?.sharedSignals;
    if (signals !== undefined)
      this.transmitterKeys = createRemoteJWKSet(new URL(signals.jwksUri), {
        timeoutDuration: options.jwks.timeout * 1000,
        cooldownDuration: options.jwks.cooldown * 1000,
        cacheMaxAge: options.jwks.maxAge * 1000,
      });
    const name = 'zero_trust_continuous_access_signals_total';
    this.counter =
      (metrics.registry.getSingleMetric(name) as Counter<'receiver' | 'event' | 'result'>) ??
      new Counter({
        name,
        help: 'Logout tokens and security events received, by receiver, event and result (applied, ignored, refused, replayed).',
        labelNames: ['receiver', 'event', 'result'],
        registers: [metrics.registry],
      });
  }

  /** Applies a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.6), or refuses it. */
  async logout(token: unknown, context: ZeroTrustRequestContext): Promise<void> {
    const options = this.options.continuousAccess?.backchannelLogout;
    if (options === undefined) throw new Error('backchannelLogout is not configured');
    await this.receive('backchannel-logout', context, async () => {
      if (typeof token !== 'string')
        throw new SignalRefusal('request', 'the body must hold one logout_token');
      const claims = await verifySignalToken(
        token,
        ({ kid, alg }) => this.keys.getKey(kid, alg ?? ''),
        {
          typ: 'logout+jwt',
          issuer: this.options.issuer,
          audience: options.audience,
          algorithms: this.options.algorithms,
          requiredClaims: ['iat', 'exp', 'jti', 'events'],
          maxTokenAge: options.maxAge,
          clockTolerance: this.options.clockTolerance,
          maxSize: this.options.maxTokenSize,
        },
      );
      const event = eventsOf(claims)[BACKCHANNEL_LOGOUT];
      if (!isRecord(event)) throw new SignalRefusal('request', 'the token is not a logout token');
      if ('nonce' in claims) throw new SignalRefusal('request', 'a logout token has no nonce');
      const subject = { sub: idOf(claims.sub), sid: idOf(claims.sid) };
      if (subject.sub === undefined && subject.sid === undefined)
        throw new SignalRefusal('request', 'the token names neither a session nor a subject');
      const applied = await this.endSessions(subject, claims.iat, 'back-channel logout');
      await this.claim(claims, Math.min(claims.exp ?? claims.iat, claims.iat + options.maxAge));
      return { event: 'backchannel-logout', applied };
    });
  }

  /** Applies a Security Event Token pushed by the transmitter (RFC 8935), or refuses it. */
  async securityEvent(
    token: unknown,
    authorization: unknown,
    context: ZeroTrustRequestContext,
  ): Promise<void> {
    const options = this.options.continuousAccess?.sharedSignals;
    const keys = this.transmitterKeys;
    if (options === undefined || keys === undefined)
      throw new Error('sharedSignals is not configured');
    await this.receive('shared-signals', context, async () => {
      if (options.authorization !== undefined && !sameSecret(authorization, options.authorization))
        throw new SignalRefusal('authentication', 'the Authorization header is missing or wrong');
      if (typeof token !== 'string')
        throw new SignalRefusal('request', 'the body must be one application/secevent+jwt');
      const claims = await verifySignalToken(token, keys, {
        typ: 'secevent+jwt',
        issuer: options.issuer,
        audience: options.audience,
        algorithms: this.options.algorithms,
        requiredClaims: ['iat', 'jti', 'events'],
        maxTokenAge: options.maxAge,
        clockTolerance: this.options.clockTolerance,
        maxSize: 65_536,
      });
      // SSF 1.0 §4.1: the subject is `sub_id`, and a SET never expires on its own.
      if ('sub' in claims || 'exp' in claims)
        throw new SignalRefusal('request', 'a security event token has no "sub" and no "exp"');
      const events = Object.entries(eventsOf(claims));
      const [entry] = events;
      if (events.length !== 1 || entry === undefined || !isRecord(entry[1]))
        throw new SignalRefusal('request', 'a security event token carries exactly one event');
      const [type, event] = entry;
      const name = type.startsWith(CAEP) ? type.slice(CAEP.length) : type;
      const applied = await this.apply(name, event, claims, options);
      await this.claim(claims, claims.iat + options.maxAge);
      return { event: name, applied };
    });
  }

  /** Runs one receipt: audits and counts its outcome, answers with a refusal as thrown. */
  private async receive(
    receiver: 'backchannel-logout' | 'shared-signals',
    context: ZeroTrustRequestContext,
    work: () => Promise<{ event: string; applied: Applied | undefined }>,
  ): Promise<void> {
    try {
      const { event: name, applied } = await work();
      const event = name.slice(0, 64);
      this.counter.inc({ receiver, event, result: applied ? 'applied' : 'ignored' });
      this.audit.record(context, {
        action: applied?.action ?? 'session_event_ignored',
        decision: 'allow',
        mode: 'enforce',
        code: applied ? 'ZT_SIGNAL_APPLIED' : 'ZT_SIGNAL_IGNORED',
        reason: applied?.reason ?? `${receiver}: ${event} acknowledged, nothing to apply`,
      });
    } catch (caught) {
      if (!(caught instanceof SignalRefusal)) throw caught;
      // A transmitter retransmits a SET it heard no 202 for (RFC 8935 §2.4): acknowledged again,
      // applied already. A logout token is never accepted twice (Back-Channel Logout §2.6).
      const retransmitted = caught.replay && receiver === 'shared-signals';
      const result = caught.replay ? 'replayed' : 'refused';
      this.counter.inc({ receiver, event: 'unknown', result });
      this.audit.record(context, {
        action: retransmitted
          ? 'session_event_ignored'
          : caught.replay
            ? 'authn_token_reuse'
            : 'session_event_refused',
        decision: retransmitted ? 'allow' : 'deny',
        mode: 'enforce',
        code: caught.replay ? 'ZT_SIGNAL_REPLAY' : 'ZT_SIGNAL_INVALID',
        reason: `${receiver}: ${caught.message}`,
      });
      if (!retransmitted) throw caught;
    }
  }

  /** Applies one CAEP event; undefined when there is nothing to apply (acknowledged). */
  private async apply(
    name: string,
    event: Record<string, unknown>,
    claims: SignalClaims,
    options: SharedSignals,
  ): Promise<Applied | undefined> {
    const at = claims.iat;
    switch (name) {
      case 'session-revoked':
      case 'token-claims-change':
        return this.endSessions(this.subjectOf(claims, event), at, `CAEP ${name}`);
      case 'credential-change':
      case 'assurance-level-change': {
        const { sub } = this.subjectOf(claims, event);
        if (sub === undefined) throw new SignalRefusal('request', `${name} needs a user subject`);
        if (name === 'credential-change') return this.endSessions({ sub }, at, `CAEP ${name}`);
        // Levels of namespaces are not comparable here: anything but an increase lowers trust.
        if (event.change_direction === 'increase') return undefined;
        await this.remember(assuranceKey(sub), at, 'lowered', options.stateTtl);
        return {
          action: 'session_assurance_lowered',
          reason: `CAEP assurance-level-change: the next request of ${sub} steps up`,
        };
      }
      case 'device-compliance-change': {
        const { device } = this.subjectOf(claims, event);
        const status = event.current_status;
        if (device === undefined || (status !== 'compliant' && status !== 'not-compliant'))
          throw new SignalRefusal(
            'request',
            'device-compliance-change needs a device and a status',
          );
        await this.remember(deviceKey(device), at, status, options.stateTtl);
        return {
          action: 'session_device_compliance',
          reason: `CAEP device-compliance-change: device ${device} is ${status}`,
        };
      }
      default:
        if (name === `${SSF}stream-updated` && event.status !== 'enabled')
          this.logger.warn(`The security event stream is ${String(event.status)}`);
        // Verification, stream updates and types this receiver does not act on.
        return undefined;
    }
  }

  /** Cuts off the tokens of a session (`sid`), else of a subject, issued up to `at`. */
  private async endSessions(subject: Subject, at: number, cause: string): Promise<Applied> {
    const { sid, sub } = subject;
    if (sid !== undefined) await this.revocations.revokeSession(sid, at);
    else if (sub !== undefined) await this.revocations.revokeSubject(sub, at);
    else throw new SignalRefusal('request', 'the event names neither a session nor a user');
    const which = sid !== undefined ? `session ${sid}` : `subject ${sub}`;
    return { action: 'session_expired', reason: `${cause}: the tokens of ${which} are revoked` };
  }

  /** Keeps a state-like event unless a later one was applied (pushes may arrive reordered). */
  private async remember(key: string, at: number, value: string, ttl: number): Promise<void> {
    const known = Number((await this.state.get(key))?.split(' ')[0]);
    if (Number.isFinite(known) && known > at) return;
    await this.state.set(key, `${at} ${value}`, ttl);
  }

  /**
   * Records the signal's `jti` until the token can no longer be accepted (`until`, its expiry or
   * maximum age, plus the clock tolerance, on our clock: an issuer whose clock runs ahead must not
   * outlast the entry), or refuses it as a replay.
   */
  private async claim(claims: SignalClaims, until: number): Promise<void> {
    const ttl = Math.ceil(until + this.options.clockTolerance - Date.now() / 1000) + 1;
    const digest = createHash('sha256').update(claims.jti).digest('base64url');
    const first = await this.state.claimOnce(`${REPLAY_KEY_PREFIX}signal:${digest}`, ttl);
    if (!first) throw new SignalRefusal('request', 'the token was already received', true);
  }

  /** The SET's subject (`sub_id`, RFC 9493 / SSF complex), in this API's terms. */
  private subjectOf(claims: JWTPayload, event: Record<string, unknown>): Subject {
    // Read sub_id first; pre-SSF transmitters put the subject in the event.
    const subject = claims.sub_id ?? event.subject;
    if (!isRecord(subject)) throw new SignalRefusal('request', 'the event has no subject');
    const found: Subject = {};
    const members: Record<string, unknown> =
      subject.format === 'complex' ? subject : { user: subject };
    const { user, session, device } = members;
    if (user !== undefined) {
      if (!isRecord(user) || user.format !== 'iss_sub' || user.iss !== this.options.issuer)
        throw new SignalRefusal('request', "the subject is not a user of this API's issuer");
      found.sub = idOf(user.sub);
    }
    if (session !== undefined) found.sid = opaqueId(session);
    if (device !== undefined) found.device = opaqueId(device);
    if (found.sub === undefined && found.sid === undefined && found.device === undefined)
      throw new SignalRefusal('request', 'the subject format is not supported');
    return found;
  }
}

function eventsOf(claims: JWTPayload): Record<string, unknown> {
  return isRecord(claims.events) ? claims.events : {};
}

function idOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID
    ? value
    : undefined;
}

function opaqueId(member: unknown): string {
  const id = isRecord(member) && member.format === 'opaque' ? idOf(member.id) : undefined;
  if (id === undefined)
    throw new SignalRefusal('request', 'a session or device must be opaque ids');
  return id;
}

/** Compares the header with the configured value in constant time (digests of equal length). */
function sameSecret(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
