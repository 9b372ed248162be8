import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuditService } from '../audit/audit.service.js';
import type { DecisionOutcome } from '../audit/decision-event.interface.js';
import { routePolicyOf } from '../routes/route-policy.js';
import {
  contextOf,
  type HttpRequestLike,
  type ZeroTrustRequestContext,
} from '../context/request-context.js';
import { RiskDeniedError, StepUpRequiredError } from '../errors/zero-trust.error.js';
import type { Principal } from '../identity/principal.interface.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { geoOf, RiskEngine } from './risk.engine.js';
import { decideRisk, riskPolicyOf, type RiskDecision } from './risk-policy.js';
import type { RiskAssessment } from './risk.types.js';

const OUTCOMES: Record<RiskDecision['verdict'], [DecisionOutcome, DecisionOutcome]> = {
  allow: ['allow', 'allow'],
  'step-up': ['step-up', 'would-step-up'],
  deny: ['deny', 'would-deny'],
};

/** A response that tells when it has been sent: Node's `ServerResponse`, or Fastify's reply around it. */
type FinishingResponse = {
  statusCode?: number;
  once?: (event: 'finish', listener: () => void) => unknown;
  raw?: FinishingResponse;
};

/**
 * Global guard, after authentication and type-level authorization and before the record-level
 * checks (so a risk or step-up answer comes before any resolver's 404): enforces the risk
 * assessment before the handler (deny → 403 `ZT_RISK_DENIED`; step-up → 401 with an
 * RFC 9470 `insufficient_user_authentication` challenge; allow → proceed), records the decision
 * and the signals' events, and once the response has been sent feeds its status back to the
 * engine. In report-only mode (`risk.mode`, `@ReportOnly`, or the module's `mode`) it records
 * `would-deny` / `would-step-up` and lets the request through. Public routes are not assessed.
 *
 * A guard rather than an interceptor: any interceptor puts Nest's Observable chain around every
 * handler, which cost about a fifth of a warm request's CPU in the benchmark.
 *
 * @publicApi
 */
@Injectable()
export class ContextRiskGuard implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly engine: RiskEngine,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Assesses the request; refuses it, asks for step-up, or lets it through to the handler. */
  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (!this.engine.enabled || execution.getType() !== 'http') return true;
    const controller = execution.getClass<Type>();
    const handler = execution.getHandler() as (...args: never[]) => unknown;
    const policy = routePolicyOf(controller, handler);
    if (policy.isPublic) return true;
    const http = execution.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<FinishingResponse>();
    const context = contextOf(request, policy.path, this.options.trustedProxies);
    const principal = context.principal;
    if (principal === undefined) return true;
    const mode = policy.mode ?? this.options.risk.mode ?? this.options.mode;
    const assessment = await this.engine.assess(request, context);
    this.enforce(assessment, response, context, principal, controller, handler, mode);
    // Only what follows the assessment is learnt from (the guard's own refusals are not): the
    // status actually sent, after later guards, the handler and the exception filters.
    const raw = typeof response.raw?.once === 'function' ? response.raw : response;
    raw.once?.('finish', () => this.finish(context, raw.statusCode ?? 200));
    return true;
  }

  /** Records the decision on an assessment; throws when it refuses the request. */
  private enforce(
    assessment: RiskAssessment,
    response: unknown,
    context: ZeroTrustRequestContext,
    principal: Principal,
    controller: Type,
    handler: (...args: never[]) => unknown,
    mode: RiskDecision['mode'],
  ): void {
    const decision = decideRisk(
      assessment,
      riskPolicyOf(controller, handler),
      this.options.risk,
      principal,
      context.time,
      mode,
    );
    this.record(context, assessment, decision);
    if (mode === 'report-only' || decision.verdict === 'allow') return;
    if (decision.verdict === 'deny') throw new RiskDeniedError();
    const error = new StepUpRequiredError(decision.acr, decision.maxAge);
    this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', error.challenge);
    throw error;
  }

  private record(
    context: ZeroTrustRequestContext,
    assessment: RiskAssessment,
    decision: RiskDecision,
  ): void {
    const outcome = OUTCOMES[decision.verdict][decision.mode === 'report-only' ? 1 : 0];
    const risk = { score: assessment.score, reasons: [...assessment.reasons] };
    const geo = geoOf(assessment);
    this.engine.recordFindings(context, assessment, outcome, decision.mode);
    if (decision.verdict === 'allow') {
      this.audit.record(context, {
        action: 'risk_assessed',
        decision: 'allow',
        mode: decision.mode,
        risk,
        ...geo,
      });
    } else if (decision.verdict === 'deny') {
      const error = new RiskDeniedError();
      this.audit.record(context, {
        action: 'authz_fail',
        decision: outcome,
        mode: decision.mode,
        code: error.code,
        reason: summary(assessment, error.message),
        risk,
        ...geo,
      });
    } else {
      this.audit.record(context, {
        action: 'authn_step_up_required',
        decision: outcome,
        mode: decision.mode,
        code: 'ZT_STEP_UP_REQUIRED',
        reason: summary(assessment, 'step-up authentication required'),
        risk,
        ...geo,
      });
    }
  }

  private finish(context: ZeroTrustRequestContext, status: number): void {
    void this.engine.recordOutcome(context, { status, success: status < 400 });
  }
}

/** The decision's reason with its top findings, e.g. `Access denied: impossible travel (60)`. */
function summary(assessment: RiskAssessment, base: string): string {
  const top = assessment.reasons.slice(0, 3).map((r) => `${r.reason} (${r.score})`);
  return top.length === 0 ? base : `${base}: ${top.join('; ')}`;
}
