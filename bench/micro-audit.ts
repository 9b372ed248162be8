// Part of `npm run bench -- --micro`: what writing the audit trail of one warm request costs in
// process: the decision record of an allowed request (authn_token_valid, authz_success,
// risk_assessed stages) through the library's pino sink (ECS mapping, pino's serialization), to a
// synchronous pino destination on /dev/null, as the demo writes to stdout.
import { PinoAuditSink } from 'nestjs-zero-trust/audit';
import pino from 'pino';

/** Requests whose events are written before the sink's batch is flushed, as in one drain. */
const PER_DRAIN = 50;

/** Microseconds per request (one record), best of `rounds` timed rounds. */
export async function microAudit(iterations = 50_000, rounds = 5): Promise<number> {
  const destination = pino.destination({ dest: '/dev/null', sync: true });
  const logger = pino({ level: 'info' }, destination).child({ context: 'ZeroTrustAudit' });
  const sink = new PinoAuditSink(logger, 'demo-api');
  const roles = ['accountant'];
  const principal = { kind: 'user' as const, id: 'alice' };
  let sequence = 0;
  const one = (): void => {
    sequence += 1;
    const request = {
      id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
      method: 'GET',
      route: '/invoices/:id',
      ip: '127.0.0.1',
    };
    // The request's one decision record, as the audit service builds it.
    sink.write({
      time: new Date().toISOString(),
      action: 'risk_assessed',
      outcome: 'success',
      decision: 'allow',
      mode: 'report-only',
      request,
      principal,
      roles,
      authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-1' },
      risk: { score: 0, reasons: [] },
      stages: [
        { action: 'authn_token_valid', decision: 'allow', mode: 'enforce' },
        {
          action: 'authz_success',
          decision: 'allow',
          mode: 'enforce',
          authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-1' },
          rule: { kind: 'granted', description: 'can read Invoice if { customerId }' },
        },
        { action: 'risk_assessed', decision: 'allow', mode: 'report-only' },
      ],
    });
  };
  const run = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 1) {
      one();
      // The sink writes its batch in a microtask, once per drain of the audit queue.
      if (i % PER_DRAIN === PER_DRAIN - 1) await Promise.resolve();
    }
    await Promise.resolve();
  };
  try {
    await run(Math.min(iterations, 20_000));
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < rounds; round += 1) {
      const started = process.hrtime.bigint();
      await run(iterations);
      best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations / 1000);
    }
    return best;
  } finally {
    destination.flushSync();
    destination.end();
  }
}
