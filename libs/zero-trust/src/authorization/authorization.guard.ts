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
import type { DecisionRule } from '../audit/decision-event.interface.js';
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
  type ResolveContext,
  type ResolverFunction,
  type SubjectResolver,
} from '../routes/resolver.interface.js';
import { routePolicyOf, subjectOf, type RoutePolicy } from '../routes/route-policy.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AbilityFactory } from './ability.factory.js';
import type { ZeroTrustAbility } from './ability.types.js';
import { explainAllow, explainDenial } from './explain.js';
import { tagSubject } from './subject.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

type Decided = { action: string; subject: string; subjectId?: string; fields?: string[] };

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

  protected resolveContext(check: CanCheck, step: Step, principal: Principal): ResolveContext {
    const { request } = step;
    const { params = {}, query = {}, body } = request;
    return {
      params,
      query,
      body,
      principal,
      action: check.action,
      subject: subjectOf(check),
      request,
    };
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
    decided: Decided,
    recordAllow = true,
  ): void {
    const can = (field?: string): boolean =>
      ability.can(check.action, target as string, field) ||
      // A type-level check on a class subject also honours rules written with the class itself.
      (typeof target === 'string' &&
        typeof check.subject === 'function' &&
        ability.can(check.action, check.subject, field));
    const { subject } = resolveContext;
    if (!can()) {
      const rule = explainDenial(ability, check.action, target, subject);
      return this.deny(step, 'ZT_ACCESS_DENIED', decided, rule);
    }
    const option = check.options.fields ?? (BODY_METHODS.has(step.policy.method) ? 'body' : false);
    const body = resolveContext.body;
    const fields =
      typeof option === 'function'
        ? option(resolveContext)
        : option === 'body' && typeof body === 'object' && body !== null
          ? Object.keys(body)
          : [];
    const refused = fields.filter((field) => !can(field));
    if (refused.length > 0) {
      const rule = explainDenial(ability, check.action, target, subject, refused[0]);
      return this.deny(step, 'ZT_FIELDS_DENIED', { ...decided, fields: refused }, rule);
    }
    if (!recordAllow) return;
    const { context, mode } = step;
    const rule = explainAllow(ability, check.action, target);
    this.audit.record(context, {
      action: 'authz_success',
      decision: 'allow',
      mode,
      authorization: decided,
      rule,
    });
  }

  protected deny(
    { context, mode }: Step,
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING',
    authorization: Decided,
    rule: DecisionRule,
  ): void {
    const wouldDeny = mode === 'report-only';
    const explanation = rule.reason ? `${rule.description} (${rule.reason})` : rule.description;
    const error = new AccessDeniedError(
      code,
      authorization.fields,
      this.options.monitoring.explainDenials ? explanation : undefined,
    );
    this.audit.record(context, {
      action: 'authz_fail',
      decision: wouldDeny ? 'would-deny' : 'deny',
      mode,
      code: error.code,
      reason: error.message,
      authorization,
      rule,
    });
    if (!wouldDeny) throw error;
  }
}

/**
 * Global guard, second of the pipeline: default deny, decided from the route and the token
 * alone. A route passes only with `@Public()`, `@Authenticated()`, `@Scopes` the token grants,
 * or when every `@Can` check allows the subject type (and the body's fields) for some record.
 * It loads no record: a caller without any rule for the check is refused before a resolver
 * could tell it whether a record exists. Checks with a resolver are decided again on the record
 * by {@link RecordAuthorizationGuard}, after the risk guard. In report-only mode denies are
 * recorded as `would-deny` and the request proceeds.
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
    if (policy.scopes.length > 0) this.checkScopes(step, principal, execution);
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
      const { subject } = resolveContext;
      // An allowed check with a resolver is recorded once decided on its record.
      this.decide(
        check,
        step,
        ability,
        resolveContext,
        subject,
        { action: check.action, subject },
        !resolved,
      );
    }
    return true;
  }

  /** 403 `insufficient_scope` (RFC 6750 §3.1) unless the token grants every required scope. */
  private checkScopes(
    { policy, context, mode }: Step,
    principal: Principal,
    execution: ExecutionContext,
  ): void {
    const missing = policy.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length === 0) return;
    const error = new InsufficientScopeError(policy.scopes);
    const wouldDeny = mode === 'report-only';
    this.audit.record(context, {
      action: 'authz_fail',
      decision: wouldDeny ? 'would-deny' : 'deny',
      mode,
      code: error.code,
      reason: `${error.message}: ${missing.join(' ')}`,
    });
    if (wouldDeny) return;
    const response: unknown = execution.switchToHttp().getResponse();
    this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', error.challenge);
    throw error;
  }
}

/**
 * Global guard, after the risk guard: loads the record of every `@Can` check with a resolver
 * (404 when absent, 503 when the resolver fails) and decides the check again on it, so rule
 * conditions see the real entity, then checks the body's fields against it. It runs only for
 * callers the type-level {@link AuthorizationGuard} and the risk guard let through: a 404 tells
 * nothing to a caller who may not act on any record of the type.
 *
 * @publicApi
 */
@Injectable()
export class RecordAuthorizationGuard extends AuthorizationStep implements CanActivate {
  private readonly logger = new Logger('ZeroTrust');
  private readonly instances = new Map<Type<SubjectResolver>, SubjectResolver>();

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
      return await this.checkRecords(step);
    } catch (error) {
      // A refusal no stage recorded (a resolver's own HTTP error, its 503): the record must say
      // deny, not list only the stages that allowed.
      this.audit.refuse(step.context, 'authz_fail', error);
      throw error;
    } finally {
      // The module's last guard: the request's decision record is complete once it has decided.
      this.audit.finish(step.context);
    }
  }

  private async checkRecords(step: Step): Promise<boolean> {
    const { policy, context } = step;
    if (policy.isPublic) return true;
    const resolved = policy.checks.filter((check) => check.options.resolve !== undefined);
    if (resolved.length === 0) return true;
    const { principal, ability } = context;
    // The type-level guard did not run before this one: refuse rather than guess.
    if (principal === undefined || ability === undefined)
      throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    for (const check of resolved) {
      const resolveContext = this.resolveContext(check, step, principal);
      const { subject } = resolveContext;
      const record = await this.load(check, resolveContext, context);
      context.resources.set(subject, record);
      const id = (record as { id?: unknown }).id;
      const decided = {
        action: check.action,
        subject,
        ...((typeof id === 'string' || typeof id === 'number') && { subjectId: String(id) }),
      };
      this.decide(check, step, ability, resolveContext, tagSubject(subject, record), decided);
    }
    return true;
  }

  /** The check's record, loaded once per request and resolver; 404 (recorded) when absent. */
  private async load(
    check: CanCheck,
    resolveContext: ResolveContext,
    context: ZeroTrustRequestContext,
  ): Promise<object> {
    const resolver = check.options.resolve;
    const known = context.resolved.get(resolver);
    if (known !== undefined) return known;
    let record: unknown;
    try {
      record = isResolverClass(resolver)
        ? await this.instanceOf(resolver).resolve(resolveContext)
        : await (resolver as ResolverFunction)(resolveContext);
    } catch (error) {
      // A resolver's own HTTP error stands; anything else is a 503 (logged).
      if (error instanceof HttpException) throw error;
      this.logger.error(
        `Resolver for ${check.action} ${resolveContext.subject} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new DependencyUnavailableError('ZT_RESOLVER_FAILED', error);
    }
    if (record === null || typeof record !== 'object') {
      const error = new ResourceNotFoundError();
      this.audit.record(context, {
        action: 'authz_not_found',
        decision: 'deny',
        mode: 'enforce',
        code: error.code,
        reason: error.message,
        authorization: { action: check.action, subject: resolveContext.subject },
      });
      throw error;
    }
    context.resolved.set(resolver, record);
    return record;
  }

  /**
   * The application's instance of a resolver class. The route audit checks at boot that every
   * resolver is a provider; one that is not (with `strictRouteAudit: false`) fails each request.
   */
  private instanceOf(type: Type<SubjectResolver>): SubjectResolver {
    const instance =
      this.instances.get(type) ?? this.moduleRef.get<SubjectResolver>(type, { strict: false });
    this.instances.set(type, instance);
    return instance;
  }
}
