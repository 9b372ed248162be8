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
import { ModuleRef } from '@nestjs/core';
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
  ResourceNotFoundError,
  ZeroTrustError,
} from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import type { ZeroTrustMode } from '../options/zero-trust-options.interface.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { AbilityFactory } from './ability.factory.js';
import type { AbilityEnv, ZeroTrustAbility } from './ability.types.js';
import type { CanCheck, ResolveContext, SubjectResolver } from './resolver.interface.js';
import { routePolicyOf, type RoutePolicy } from './route-policy.js';
import { explainDenial } from './explain.js';
import { tagSubject } from './subject.js';
import { after, isThenable, type Eventually } from '../utils/eventually.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function subjectName(subject: string | Type): string {
  return typeof subject === 'string' ? subject : subject.name;
}

function recordId(record: object): string | undefined {
  const id = (record as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Global guard, second of the pipeline: default deny. A route passes only with `@Public()`,
 * `@Authenticated()`, or when every `@Can` check allows. Resolvers load the record so rule
 * conditions see the real entity (404 when absent); body fields are checked against field rules.
 * In report-only mode denies are recorded as `would-deny` and the request proceeds.
 *
 * @publicApi
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly logger = new Logger('ZeroTrust');
  private readonly resolvers = new Map<Type<SubjectResolver>, Promise<SubjectResolver>>();
  /** The same, once created: no promise to wait for. */
  private readonly resolverInstances = new Map<Type<SubjectResolver>, SubjectResolver>();

  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly abilities: AbilityFactory,
    private readonly audit: AuditService,
    private readonly moduleRef: ModuleRef,
    @Optional()
    @Inject(ABILITY_ENV_SOURCES)
    private readonly envSources: AbilityEnvSource[] = [],
  ) {}

  /**
   * Checks the route's policy. Answers at once when the ability is cached and every resolver
   * answers synchronously, with a promise otherwise.
   */
  canActivate(execution: ExecutionContext): boolean | Promise<boolean> {
    const policy = routePolicyOf(
      execution.getClass<Type>(),
      execution.getHandler() as (...args: never[]) => unknown,
    );
    if (policy.isPublic) return true;
    const request = execution.switchToHttp().getRequest<HttpRequestLike>();
    const context = contextOf(request, policy.path, this.options.trustedProxies);
    const principal = context.principal;
    const mode: ZeroTrustMode = policy.mode ?? this.options.mode;
    if (principal === undefined) {
      // The authentication guard did not run before this one: refuse rather than guess.
      throw new ZeroTrustError('ZT_UNAUTHENTICATED', 401);
    }
    if (policy.checks.length === 0) {
      if (policy.authenticated) return true;
      return this.deny(
        context,
        mode,
        'ZT_POLICY_MISSING',
        { action: '*', subject: '*' },
        { kind: 'none', description: 'the route has no access policy' },
      );
    }
    const cached = this.abilities.cachedFor(principal);
    if (cached !== undefined) {
      context.ability = cached;
      return this.checkAll(policy, request, context, cached, mode, 0);
    }
    // The environment is built only when the ability is not cached; lazy sources (e.g. risk)
    // are computed only if a definition reads their keys.
    const env = (): AbilityEnv =>
      lazyEnv(
        { time: context.time, ip: context.ip, requestId: context.requestId },
        this.envSources,
        request,
        context,
      );
    return this.abilities.createFor(principal, env).then((ability) => {
      context.ability = ability;
      return this.checkAll(policy, request, context, ability, mode, 0);
    });
  }

  /** The route's checks from `from` on, in order; each waits for the one before it. */
  private checkAll(
    policy: RoutePolicy,
    request: HttpRequestLike,
    context: ZeroTrustRequestContext,
    ability: ZeroTrustAbility,
    mode: ZeroTrustMode,
    from: number,
  ): Eventually<boolean> {
    const checks = policy.checks;
    for (let i = from; i < checks.length; i++) {
      const pending = this.check(checks[i] as CanCheck, policy, request, context, ability, mode);
      if (pending !== undefined) {
        return pending.then(() => this.checkAll(policy, request, context, ability, mode, i + 1));
      }
    }
    return true;
  }

  /** One `@Can` check: undefined once decided, a promise while its record is being loaded. */
  private check(
    check: CanCheck,
    policy: RoutePolicy,
    request: HttpRequestLike,
    context: ZeroTrustRequestContext,
    ability: ZeroTrustAbility,
    mode: ZeroTrustMode,
  ): Promise<void> | undefined {
    const name = subjectName(check.subject);
    const resolveContext: ResolveContext = {
      params: request.params ?? {},
      query: request.query ?? {},
      body: request.body,
      principal: context.principal as Principal,
      action: check.action,
      subject: name,
      request,
    };
    const target =
      check.options.resolve === undefined ? name : this.resolve(check, resolveContext, context);
    const decided = after(target, (record) =>
      this.decide(check, policy, context, ability, mode, resolveContext, record),
    );
    return isThenable(decided) ? decided : undefined;
  }

  /**
   * Decides one check on its target: the subject name, or the loaded record. Records are
   * tagged with the subject name, which rules written by name or by class match.
   */
  private decide(
    check: CanCheck,
    policy: RoutePolicy,
    context: ZeroTrustRequestContext,
    ability: ZeroTrustAbility,
    mode: ZeroTrustMode,
    resolveContext: ResolveContext,
    record: object | string,
  ): void {
    const name = resolveContext.subject;
    let target: object | string = name;
    let subjectId: string | undefined;
    if (typeof record === 'object') {
      target = tagSubject(name, record);
      subjectId = recordId(record);
      context.resources.set(name, record);
    }
    const decided = {
      action: check.action,
      subject: name,
      ...(subjectId !== undefined ? { subjectId } : {}),
    };
    const allowed =
      ability.can(check.action, target as string) ||
      // A type-level check on a class subject also honours rules written with the class itself.
      (typeof target === 'string' &&
        typeof check.subject === 'function' &&
        ability.can(check.action, check.subject));
    if (!allowed) {
      const rule = explainDenial(ability, check.action, target, name);
      this.deny(context, mode, 'ZT_ACCESS_DENIED', decided, rule);
      return;
    }
    const fields = this.fieldsOf(check, policy, resolveContext);
    if (fields.length > 0) {
      const refused = fields.filter((field) => !ability.can(check.action, target as string, field));
      if (refused.length > 0) {
        const rule = explainDenial(ability, check.action, target, name, refused[0]);
        this.deny(context, mode, 'ZT_FIELDS_DENIED', { ...decided, fields: refused }, rule);
        return;
      }
    }
    this.audit.record(context, {
      action: 'authz_success',
      decision: 'allow',
      mode,
      authorization: decided,
    });
  }

  private fieldsOf(check: CanCheck, policy: RoutePolicy, resolveContext: ResolveContext): string[] {
    const option = check.options.fields ?? (BODY_METHODS.has(policy.method) ? 'body' : false);
    if (option === false) return [];
    if (typeof option === 'function') return option(resolveContext);
    const body = resolveContext.body;
    return typeof body === 'object' && body !== null ? Object.keys(body) : [];
  }

  /** The check's record: at once from a synchronous resolver, else once it is loaded. */
  private resolve(
    check: CanCheck,
    resolveContext: ResolveContext,
    context: ZeroTrustRequestContext,
  ): Eventually<object> {
    const resolver = check.options.resolve;
    const known = context.resolved.get(resolver);
    if (known !== undefined) return known;
    let loaded: Eventually<unknown>;
    try {
      if (resolver === undefined) throw new Error('no resolver');
      if (typeof resolver.prototype?.resolve === 'function') {
        const type = resolver as Type<SubjectResolver>;
        const instance = this.resolverInstances.get(type);
        loaded =
          instance !== undefined
            ? instance.resolve(resolveContext)
            : this.resolverInstance(type).then((created) => created.resolve(resolveContext));
      } else {
        loaded = (resolver as (c: ResolveContext) => unknown)(resolveContext);
      }
    } catch (error) {
      throw this.resolverFailed(check, resolveContext, error);
    }
    if (isThenable(loaded)) {
      return Promise.resolve(loaded).then(
        (record) => this.found(check, resolveContext, context, record),
        (error: unknown) => {
          throw this.resolverFailed(check, resolveContext, error);
        },
      );
    }
    return this.found(check, resolveContext, context, loaded);
  }

  /** A resolver's failure: its own HTTP error as it is, anything else a 503 (logged). */
  private resolverFailed(check: CanCheck, resolveContext: ResolveContext, error: unknown): Error {
    if (error instanceof HttpException) return error;
    this.logger.error(
      `Resolver for ${check.action} ${resolveContext.subject} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return new DependencyUnavailableError('ZT_RESOLVER_FAILED', error);
  }

  /** The loaded record, remembered for the request; 404 (recorded) when there is none. */
  private found(
    check: CanCheck,
    resolveContext: ResolveContext,
    context: ZeroTrustRequestContext,
    record: unknown,
  ): object {
    if (record === null || record === undefined || typeof record !== 'object') {
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
    context.resolved.set(check.options.resolve, record);
    return record;
  }

  private resolverInstance(type: Type<SubjectResolver>): Promise<SubjectResolver> {
    let instance = this.resolvers.get(type);
    if (instance === undefined) {
      const created = (async (): Promise<SubjectResolver> => {
        try {
          return this.moduleRef.get(type, { strict: false });
        } catch {
          return this.moduleRef.create(type);
        }
      })();
      // Remember the instance once created; forget a failed creation so the next request
      // tries again.
      created.then(
        (resolver) => this.resolverInstances.set(type, resolver),
        () => this.resolvers.delete(type),
      );
      this.resolvers.set(type, created);
      instance = created;
    }
    return instance;
  }

  private deny(
    context: ZeroTrustRequestContext,
    mode: ZeroTrustMode,
    code: 'ZT_ACCESS_DENIED' | 'ZT_FIELDS_DENIED' | 'ZT_POLICY_MISSING',
    authorization: { action: string; subject: string; subjectId?: string; fields?: string[] },
    rule: DecisionRule,
  ): true {
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
    return true;
  }
}
