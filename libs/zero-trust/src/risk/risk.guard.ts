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
import { contextOf, type HttpRequestLike } from '../context/request-context.js';
import { ERROR_MESSAGES, type ZeroTrustErrorCode } from '../errors/messages.js';
import { RiskDeniedError, StepUpRequiredError } from '../errors/zero-trust.error.js';
import type { ResolvedZeroTrustOptions } from '../options/validate-options.js';
import { ZERO_TRUST_OPTIONS } from '../zero-trust.constants.js';
import { geoOf, RiskEngine } from './risk.engine.js';
import { decideRisk } from './risk-policy.js';
import type { RiskAssessment, RiskVerdict } from './risk.types.js';

/** What each verdict records: its action and, for a refusal, its code and reason. */
const RECORDS: Record<RiskVerdict, [string, ZeroTrustErrorCode?, string?]> = {
  allow: ['risk_assessed'],
  deny: ['authz_fail', 'ZT_RISK_DENIED', ERROR_MESSAGES.ZT_RISK_DENIED],
  'step-up': ['authn_step_up_required', 'ZT_STEP_UP_REQUIRED', 'step-up authentication required'],
};

/** Node's `ServerResponse`, or Fastify's reply around it. */
type FinishingResponse = {
  statusCode?: number;
  once?: (event: 'finish', listener: () => void) => unknown;
  raw?: FinishingResponse;
};

/**
 * Global guard before record-level checks: deny → 403 `ZT_RISK_DENIED`, step-up → 401 with an
 * RFC 9470 challenge (report-only records `would-*`). @publicApi
 */
@Injectable()
export class ContextRiskGuard implements CanActivate {
  constructor(
    @Inject(ZERO_TRUST_OPTIONS) private readonly options: ResolvedZeroTrustOptions,
    private readonly engine: RiskEngine,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    if (!this.engine.enabled || execution.getType() !== 'http') return true;
    const route = routePolicyOf(execution.getClass<Type>(), execution.getHandler() as never);
    if (route.isPublic) return true;
    const http = execution.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<FinishingResponse>();
    const context = contextOf(request, route.path, this.options.trustedProxies);
    const { principal, time } = context;
    if (principal === undefined) return true;
    const { risk } = this.options;
    const mode = route.mode ?? risk.mode ?? this.options.mode;
    const assessment = await this.engine.assess(request, context);
    const { verdict, acr, maxAge } = decideRisk(assessment, route.risk, risk, principal, time);
    const reported = mode === 'report-only';
    const [action, code, base = ''] = RECORDS[verdict];
    const outcome: DecisionOutcome = reported && verdict !== 'allow' ? `would-${verdict}` : verdict;
    this.engine.recordFindings(context, assessment, outcome, mode);
    this.audit.record(context, {
      action,
      decision: outcome,
      mode,
      code,
      reason: code === undefined ? undefined : summary(assessment, base),
      risk: { score: assessment.score, reasons: [...assessment.reasons] },
      geo: geoOf(assessment),
    });
    if (!reported && verdict === 'deny') throw new RiskDeniedError();
    if (!reported && verdict === 'step-up') {
      const error = new StepUpRequiredError(acr, maxAge);
      this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', error.challenge);
      throw error;
    }
    // Learns from the status actually sent (after later guards, the handler and the filters).
    const raw = typeof response.raw?.once === 'function' ? response.raw : response;
    raw.once?.('finish', () => {
      const status = raw.statusCode ?? 200;
      void this.engine.recordOutcome(context, { status, success: status < 400 });
    });
    return true;
  }
}

/** The decision's reason with its top findings, e.g. `Access denied: impossible travel (60)`. */
function summary(assessment: RiskAssessment, base: string): string {
  const top = assessment.reasons.slice(0, 3).map((r) => `${r.reason} (${r.score})`);
  return top.length === 0 ? base : `${base}: ${top.join('; ')}`;
}
