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
import { contextOf, type HttpRequestLike } from '../context/request-context.js';
import {
  AccessDeniedError,
  DependencyUnavailableError,
  InsufficientScopeError,
  messageOf,
  ResourceNotFoundError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import {
  isResolverClass,
  type CanCheck,
  type ResolveContext,
  type ResolverFunction,
  type SubjectResolver,
} from '../routes/resolver.interface.js';
import { routePolicyOf, subjectOf } from '../routes/route-policy.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AbilityFactory } from './ability.factory.js';
import type { ZeroTrustAbility } from './ability.types.js';
import { explainAllow, explainDenial } from './explain.js';
import { tagSubject } from './subject.js';
import { compact } from '../utils/compact.js';
import { POLICY_DECISION_POINT, type PolicyDecisionPoint } from '../policy/decision-point.js';
import { decideExternally, type PolicyVerdict } from '../policy/external-checks.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Report-only lets every request through to the record-level step, which reports the same refusal
 * with the record's id: deciding a resolved check on its type too would report it twice.
 */
const decidedByType = (check: CanCheck, mode: string) =>
  check.options.resolve === undefined || mode !== 'report-only';

/** One request as both guards see it. */
type Step = ReturnType<AuthorizationStep['step']>;

/** What both authorization guards share: reading the route, deciding a check, recording. */
abstract class AuthorizationStep {
  constructor(
    protected readonly options: ResolvedZeroTrustOptions,
    protected readonly audit: AuditService,
    protected readonly envSources: AbilityEnvSource[] = [],
    protected readonly pdp?: PolicyDecisionPoint,
  ) {}

  protected step(execution: ExecutionContext) {
    const policy = routePolicyOf(execution.getClass<Type>(), execution.getHandler() as never);
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const context = contextOf(request, policy.path, this.options.trustedProxies);
    return { policy, request, context, mode: policy.mode ?? this.options.mode };
  }

  /** What a resolver or a `fields` function receives; called once the principal is known. */
  protected resolveContext(check: CanCheck, { request, context }: Step): ResolveContext {
    const { params = {}, query = {}, body } = request;
    const principal = context.principal as Principal;
    const { action } = check;
    return { params, query, body, principal, action, subject: subjectOf(check), request };
  }

  /** The fields a check touches: its `fields` option, else the body's keys on a change. */
  protected fieldsOf(step: Step, check: CanCheck): string[] {
    const option = check.options.fields ?? (BODY_METHODS.has(step.policy.method) ? 'body' : false);
    const { body } = step.request;
    if (typeof option === 'function') return option(this.resolveContext(check, step));
    return option === 'body' && typeof body === 'object' && body !== null ? Object.keys(body) : [];
  }

  /** Decides `checks` by the external decision point: on the kind, or on `load`'s records. */
  protected externally(step: Step, checks: CanCheck[], load?: (c: CanCheck) => Promise<object>) {
    const fieldsOf = (check: CanCheck) => this.fieldsOf(step, check);
    const decide = (check: CanCheck, verdict: PolicyVerdict, target: object | string) =>
      this.decide(step, check, verdict, target);
    const pdp = this.pdp as PolicyDecisionPoint;
    return decideExternally(pdp, this.envSources, step, checks, { fieldsOf, decide, load });
  }

  /**
   * Decides and records a check on `target` (a subject name or a tagged record), then fields, by
   * the CASL ability or by an external decision point's verdict.
   */
  protected decide(
    step: Step,
    check: CanCheck,
    decider: ZeroTrustAbility | PolicyVerdict,
    target: object | string,
  ) {
    const { action } = check;
    const subject = subjectOf(check);
    const verdict = 'refusedFields' in decider ? decider : undefined;
    const ability = decider as ZeroTrustAbility;
    const can = (field?: string): boolean =>
      verdict !== undefined
        ? verdict.allowed && (field === undefined || !verdict.refusedFields.includes(field))
        : ability.can(action, target as string, field) ||
          // A type-level check on a class subject also honours rules written with the class.
          (typeof target === 'string' &&
            typeof check.subject === 'function' &&
            ability.can(action, check.subject, field));
    const id = typeof target === 'object' ? (target as { id?: unknown }).id : undefined;
    const subjectId = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
    const checked = compact({ action, subject, subjectId });
    if (!can()) {
      const rule = verdict?.rule ?? explainDenial(ability, action, target, subject);
      return this.deny(step, 'ZT_ACCESS_DENIED', checked, rule);
    }
    const refused = this.fieldsOf(step, check).filter((field) => !can(field));
    if (refused.length > 0) {
      // An external verdict's rule allowed the action: the field is what it refused.
      const description = `${verdict?.rule.description}: the field "${refused[0]}" is not granted`;
      const rule = verdict
        ? { kind: 'fields' as const, description }
        : explainDenial(ability, action, target, subject, refused[0]);
      return this.deny(step, 'ZT_FIELDS_DENIED', { ...checked, fields: refused }, rule);
    }
    // An allowed check with a resolver is recorded once decided on its record.
    if (typeof target === 'string' && check.options.resolve !== undefined) return;
    this.audit.record(step.context, {
      action: 'authz_success',
      decision: 'allow',
      mode: step.mode,
      authorization: checked,
      rule: verdict?.rule ?? explainAllow(ability, action, target),
    });
  }

  protected deny(
    step: Step,
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING',
    authorization: NonNullable<DecisionStage['authorization']>,
    rule: DecisionRule,
  ): void {
    const explanation = rule.reason ? `${rule.description} (${rule.reason})` : rule.description;
    const explained = this.options.monitoring.explainDenials ? explanation : undefined;
    const error = new AccessDeniedError(code, authorization.fields, explained);
    this.refuse(step, error, { authorization, rule });
  }

  /** Records `error` as a deny and throws it, or as a would-deny in report-only mode. */
  protected refuse({ context, mode }: Step, error: ZeroTrustError, stage?: Partial<DecisionStage>) {
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
 * Global guard, second of the pipeline: default deny, decided from the route and the token alone;
 * checks with a resolver are decided again by {@link RecordAuthorizationGuard}. @publicApi
 */
@Injectable()
export class AuthorizationGuard extends AuthorizationStep implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) options: ResolvedZeroTrustOptions,
    private readonly abilities: AbilityFactory,
    audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(ABILITY_ENV_SOURCES) envSources?: AbilityEnvSource[],
    @Optional() @Inject(POLICY_DECISION_POINT) pdp?: PolicyDecisionPoint,
  ) {
    super(options, audit, envSources, pdp);
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
        this.adapterHost.httpAdapter?.setHeader(response, 'WWW-Authenticate', error.challenge);
      this.refuse(step, error, { reason: `${error.message}: ${missing.join(' ')}` });
    }
    if (policy.checks.length === 0) {
      if (policy.authenticated || policy.scopes.length > 0) return true;
      const rule = { kind: 'none', description: 'the route has no access policy' } as const;
      this.deny(step, 'ZT_POLICY_MISSING', { action: '*', subject: '*' }, rule);
      return true;
    }
    if (this.pdp !== undefined)
      return this.externally(
        step,
        policy.checks.filter((c) => decidedByType(c, mode)),
      );
    // The environment is built only when the ability is not cached.
    const base = { time: context.time, ip: context.ip, requestId: context.requestId };
    const env = () => lazyEnv(base, this.envSources, request, context);
    const ability = (context.ability = await this.abilities.createFor(principal, env));
    for (const check of policy.checks)
      if (decidedByType(check, mode)) this.decide(step, check, ability, subjectOf(check));
    return true;
  }
}

/**
 * Global guard, after the risk guard: decides each resolved `@Can` check again on its record, so a
 * 404 tells nothing to a caller the earlier guards would have refused. @publicApi
 */
@Injectable()
export class RecordAuthorizationGuard extends AuthorizationStep implements CanActivate {
  private readonly logger = new Logger('ZeroTrust');
  // A non-strict ModuleRef.get searches every module: once per resolver class, not per request.
  private readonly resolvers = new Map<Type<SubjectResolver>, SubjectResolver>();

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) options: ResolvedZeroTrustOptions,
    audit: AuditService,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(ABILITY_ENV_SOURCES) envSources?: AbilityEnvSource[],
    @Optional() @Inject(POLICY_DECISION_POINT) pdp?: PolicyDecisionPoint,
  ) {
    super(options, audit, envSources, pdp);
  }

  /** Loads and checks the records of the route's resolved checks, in order. */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const step = this.step(execution);
    const { policy, context } = step;
    const resolved = policy.checks.filter((check) => check.options.resolve !== undefined);
    try {
      if (policy.isPublic || resolved.length === 0) return true;
      // The type-level guard did not run before this one: refuse rather than guess.
      if (context.principal === undefined || (context.ability ?? this.pdp) === undefined)
        throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
      if (this.pdp) return await this.externally(step, resolved, (c) => this.load(c, step));
      for (const check of resolved) {
        const record = await this.load(check, step);
        context.resources.set(subjectOf(check), record);
        this.decide(
          step,
          check,
          context.ability as ZeroTrustAbility,
          tagSubject(subjectOf(check), record),
        );
      }
      return true;
    } catch (error) {
      // A refusal no stage recorded (a resolver's own HTTP error, its 503) still makes a deny.
      this.audit.refuse(context, 'authz_fail', error);
      throw error;
    } finally {
      // The module's last guard: the request's decision record is complete.
      this.audit.finish(context);
    }
  }

  private instanceOf(type: Type<SubjectResolver>): SubjectResolver {
    const instance: SubjectResolver =
      this.resolvers.get(type) ?? this.moduleRef.get(type, { strict: false });
    this.resolvers.set(type, instance);
    return instance;
  }

  /** The check's record, loaded once per request and resolver; 404 (recorded) when absent. */
  private async load(check: CanCheck, step: Step): Promise<object> {
    const resolver = check.options.resolve;
    const known = step.context.resolved.get(resolver);
    if (known !== undefined) return known;
    const resolveContext = this.resolveContext(check, step);
    const { action, subject } = resolveContext;
    let record: unknown;
    try {
      // A resolver class that is no provider fails here: the route audit reports it at boot.
      record = isResolverClass(resolver)
        ? await this.instanceOf(resolver).resolve(resolveContext)
        : await (resolver as ResolverFunction)(resolveContext);
    } catch (error) {
      // A resolver's own HTTP error stands; anything else is a 503 (logged).
      if (error instanceof HttpException) throw error;
      this.logger.error(`Resolver for ${action} ${subject} failed: ${messageOf(error)}`);
      throw new DependencyUnavailableError('ZT_RESOLVER_FAILED', error);
    }
    if (record === null || typeof record !== 'object') {
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
