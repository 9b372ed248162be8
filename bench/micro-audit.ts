// Part of `npm run bench -- --micro`: what writing the audit trail of one warm request costs in
// process: the three allow events the demo records (authn_token_valid, authz_success,
// risk_assessed) through the library's pino sink (ECS serialization and framing), to a
// synchronous pino destination on /dev/null, as the demo writes to stdout.
import { PinoAuditSink, type DecisionEvent } from 'nestjs-zero-trust';
import pino from 'pino';

/** Requests whose events are written before the sink's batch is flushed, as in one drain. */
const PER_DRAIN = 50;

/** Microseconds per request (three events), best of `rounds` timed rounds. */
export async function microAudit(iterations = 50_000, rounds = 5): Promise<number> {
  const destination = pino.destination({ dest: '/dev/null', sync: true });
  const logger = pino({ level: 'info' }, destination).child({ context: 'ZeroTrustAudit' });
  const sink = new PinoAuditSink(logger, 'demo-api');
  const roles = Object.freeze(['accountant']);
  const principal = { kind: 'user' as const, id: 'alice' };
  let sequence = 0;
  const one = (): void => {
    sequence += 1;
    // One request object shared by the request's events, as the audit service builds them.
    const request = {
      id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
      method: 'GET',
      route: '/invoices/:id',
      ip: '127.0.0.1',
    };
    const time = new Date().toISOString();
    const events: DecisionEvent[] = [
      {
        time,
        action: 'authn_token_valid',
        outcome: 'success',
        decision: 'allow',
        mode: 'enforce',
        request,
        principal,
        roles,
      },
      {
        time,
        action: 'authz_success',
        outcome: 'success',
        decision: 'allow',
        mode: 'enforce',
        request,
        principal,
        roles,
        authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-1' },
      },
      {
        time,
        action: 'risk_assessed',
        outcome: 'success',
        decision: 'allow',
        mode: 'report-only',
        request,
        principal,
        roles,
        risk: { score: 0, reasons: [] },
      },
    ];
    for (const event of events) void sink.write(event);
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
