import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  Optional,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { AuditService } from '../audit/audit.service.js';
import type { DecisionRule, DecisionStage } from '../audit/decision-event.interface.js';
import { ABILITY_ENV_SOURCES, lazyEnv, type AbilityEnvSource } from '../context/lazy-env.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import {
  AccessDeniedError,
  DependencyUnavailableError,
  InsufficientScopeError,
  ResourceNotFoundError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import {
  isResolverClass,
  type CanCheck,
  type CanOptions,
  type ResolveContext,
  type ResolverFunction,
} from '../routes/resolver.interface.js';
import { routePolicyOf, subjectOf, type RoutePolicy } from '../routes/route-policy.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AbilityFactory } from './ability.factory.js';
import type { ZeroTrustAbility } from './ability.types.js';
import { explainAllow, explainDenial } from './explain.js';
import { tagSubject } from './subject.js';
import { compact } from '../utils/compact.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

type Checked = NonNullable<DecisionStage['authorization']>;

/** One request as both guards see it. */
interface Step {
  policy: RoutePolicy;
  request: HttpRequestLike;
  context: ZeroTrustRequestContext;
  mode: ZeroTrustMode;
}

/** What both authorization guards share: reading the route, deciding a check, recording. */
abstract class AuthorizationStep {
  constructor(
    protected readonly options: ResolvedZeroTrustOptions,
    protected readonly audit: AuditService,
  ) {}

  protected step(execution: ExecutionContext): Step {
    const policy = routePolicyOf(execution.getClass<Type>(), execution.getHandler() as never);
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const context = contextOf(request, policy.path, this.options.trustedProxies);
    return { policy, request, context, mode: policy.mode ?? this.options.mode };
  }

  protected resolveContext(
    check: CanCheck,
    { request }: Step,
    principal: Principal,
  ): ResolveContext {
    const { params = {}, query = {}, body } = request;
    const { action } = check;
    return { params, query, body, principal, action, subject: subjectOf(check), request };
  }

  /**
   * Decides one check on `target` (the subject's name, or a record tagged with it): the action,
   * then the fields. Records the outcome; a refusal throws unless report-only.
   */
  protected decide(
    check: CanCheck,
    step: Step,
    ability: ZeroTrustAbility,
    resolveContext: ResolveContext,
    target: object | string,
    checked: Checked,
    recordAllow = true,
  ): void {
    const can = (field?: string): boolean =>
      ability.can(check.action, target as string, field) ||
      // A type-level check on a class subject also honours rules written with the class itself.
      (typeof target === 'string' &&
        typeof check.subject === 'function' &&
        ability.can(check.action, check.subject, field));
    const { subject, body } = resolveContext;
    if (!can()) {
      const rule = explainDenial(ability, check.action, target, subject);
      return this.deny(step, 'ZT_ACCESS_DENIED', checked, rule);
    }
    const option = check.options.fields ?? (BODY_METHODS.has(step.policy.method) ? 'body' : false);
    const fields =
      typeof option === 'function'
        ? option(resolveContext)
        : option === 'body' && typeof body === 'object' && body !== null
          ? Object.keys(body)
          : [];
    const refused = fields.filter((field) => !can(field));
    if (refused.length > 0) {
      const rule = explainDenial(ability, check.action, target, subject, refused[0]);
      return this.deny(step, 'ZT_FIELDS_DENIED', { ...checked, fields: refused }, rule);
    }
    if (!recordAllow) return;
    this.audit.record(step.context, {
      action: 'authz_success',
      decision: 'allow',
      mode: step.mode,
      authorization: checked,
      rule: explainAllow(ability, check.action, target),
    });
  }

  protected deny(
    step: Step,
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING',
    authorization: Checked,
    rule: DecisionRule,
  ): void {
    const explanation = rule.reason ? `${rule.description} (${rule.reason})` : rule.description;
    const explained = this.options.monitoring.explainDenials ? explanation : undefined;
    this.refuse(step, new AccessDeniedError(code, authorization.fields, explained), {
      authorization,
      rule,
    });
  }

  /** Records `error` as a deny and throws it, or as a would-deny in report-only mode. */
  protected refuse(
    { context, mode }: Step,
    error: ZeroTrustError,
    stage?: Partial<DecisionStage>,
  ): void {
    const wouldDeny = mode === 'report-only';
    this.audit.record(context, {
      action: 'authz_fail',
      decision: wouldDeny ? 'would-deny' : 'deny',
      mode,
      code: error.code,
      reason: error.message,
      ...stage,
    });
    if (!wouldDeny) throw error;
  }
}

/**
 * Global guard, second of the pipeline: default deny, decided from the route and the token
 * alone. A route passes only with `@Public()`, `@Authenticated()`, `@Scopes` the token grants,
 * or when every `@Can` check allows the subject type (and the body's fields) for some record.
 * It loads no record: checks with a resolver are decided again on the record by
 * {@link RecordAuthorizationGuard}, after the risk guard. Report-only records `would-deny`.
 *
 * @publicApi
 */
@Injectable()
export class AuthorizationGuard extends AuthorizationStep implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) options: ResolvedZeroTrustOptions,
    private readonly abilities: AbilityFactory,
    audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Optional()
    @Inject(ABILITY_ENV_SOURCES)
    private readonly envSources: AbilityEnvSource[] = [],
  ) {
    super(options, audit);
  }

  /** Checks the route's scopes and type-level policy. */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const step = this.step(execution);
    const { policy, request, context, mode } = step;
    if (policy.isPublic) return true;
    const principal = context.principal;
    // The authentication guard did not run before this one: refuse rather than guess.
    if (principal === undefined) throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    const missing = policy.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      // 403 `insufficient_scope` (RFC 6750 §3.1).
      const error = new InsufficientScopeError(policy.scopes);
      const response: unknown = execution.switchToHttp().getResponse();
      if (mode === 'enforce')
        this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', error.challenge);
      this.refuse(step, error, { reason: `${error.message}: ${missing.join(' ')}` });
    }
    if (policy.checks.length === 0) {
      if (policy.authenticated || policy.scopes.length > 0) return true;
      const rule = { kind: 'none', description: 'the route has no access policy' } as const;
      this.deny(step, 'ZT_POLICY_MISSING', { action: '*', subject: '*' }, rule);
      return true;
    }
    // The environment is built only when the ability is not cached.
    const base = { time: context.time, ip: context.ip, requestId: context.requestId };
    const env = () => lazyEnv(base, this.envSources, request, context);
    const ability = (context.ability = await this.abilities.createFor(principal, env));
    for (const check of policy.checks) {
      const resolved = check.options.resolve !== undefined;
      // Report-only lets every request through to the record-level step, which reports the
      // same refusal with the record's id: deciding it here too would report it twice.
      if (resolved && mode === 'report-only') continue;
      const resolveContext = this.resolveContext(check, step, principal);
      const { action, subject } = resolveContext;
      // An allowed check with a resolver is recorded once decided on its record.
      this.decide(check, step, ability, resolveContext, subject, { action, subject }, !resolved);
    }
    return true;
  }
}

/**
 * Global guard, after the risk guard: loads the record of every `@Can` check with a resolver
 * (404 when absent, 503 when the resolver fails) and decides the check again on it, so rule
 * conditions see the real entity. It runs only for callers the type-level
 * {@link AuthorizationGuard} and the risk guard let through: a 404 tells nothing to a caller who
 * may not act on any record of the type.
 *
 * @publicApi
 */
@Injectable()
export class RecordAuthorizationGuard extends AuthorizationStep implements CanActivate {
  private readonly logger = new Logger('ZeroTrust');

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) options: ResolvedZeroTrustOptions,
    audit: AuditService,
    private readonly moduleRef: ModuleRef,
  ) {
    super(options, audit);
  }

  /** Loads and checks the records of the route's resolved checks, in order. */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const step = this.step(execution);
    try {
      await this.checkRecords(step);
      return true;
    } catch (error) {
      // A refusal no stage recorded (a resolver's own HTTP error, its 503) still makes a deny.
      this.audit.refuse(step.context, 'authz_fail', error);
      throw error;
    } finally {
      // The module's last guard: the request's decision record is complete.
      this.audit.finish(step.context);
    }
  }

  private async checkRecords(step: Step): Promise<void> {
    const { policy, context } = step;
    const resolved = policy.checks.filter((check) => check.options.resolve !== undefined);
    if (policy.isPublic || resolved.length === 0) return;
    const { principal, ability } = context;
    // The type-level guard did not run before this one: refuse rather than guess.
    if (principal === undefined || ability === undefined)
      throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    for (const check of resolved) {
      const resolveContext = this.resolveContext(check, step, principal);
      const { action, subject } = resolveContext;
      const record = await this.load(check.options.resolve, resolveContext, step);
      context.resources.set(subject, record);
      const id = (record as { id?: unknown }).id;
      const subjectId = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
      const checked = compact({ action, subject, subjectId });
      this.decide(check, step, ability, resolveContext, tagSubject(subject, record), checked);
    }
  }

  /** The check's record, loaded once per request and resolver; 404 (recorded) when absent. */
  private async load(
    resolver: CanOptions['resolve'],
    resolveContext: ResolveContext,
    step: Step,
  ): Promise<object> {
    const known = step.context.resolved.get(resolver);
    if (known !== undefined) return known;
    let record: unknown;
    try {
      // A resolver class that is no provider fails here: the route audit reports it at boot.
      record = isResolverClass(resolver)
        ? await this.moduleRef.get(resolver, { strict: false }).resolve(resolveContext)
        : await (resolver as ResolverFunction)(resolveContext);
    } catch (error) {
      // A resolver's own HTTP error stands; anything else is a 503 (logged).
      if (error instanceof HttpException) throw error;
      const { action, subject } = resolveContext;
      const cause = error instanceof Error ? error.message : String(error);
      this.logger.error(`Resolver for ${action} ${subject} failed: ${cause}`);
      throw new DependencyUnavailableError('ZT_RESOLVER_FAILED', error);
    }
    if (record === null || typeof record !== 'object') {
      const { action, subject } = resolveContext;
      // Enforced whatever the mode: this throws.
      this.refuse({ ...step, mode: 'enforce' }, new ResourceNotFoundError(), {
        action: 'authz_not_found',
        authorization: { action, subject },
      });
    }
    step.context.resolved.set(resolver, record as object);
    return record as object;
  }
}
