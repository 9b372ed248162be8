import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { AuditService, type AuditSink } from 'nestjs-zero-trust/audit';
import {
  Authenticated,
  currentRequestId,
  ZeroTrustMetrics,
  ZeroTrustModule,
} from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './support/demo-api.js';
import { listenApp } from './support/nest-app.js';

/** A sink whose writes never finish until released: the slowest collector there is. */
class StuckSink implements AuditSink {
  writes = 0;
  private released = false;
  private readonly waiting: (() => void)[] = [];
  write(): Promise<void> {
    this.writes += 1;
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    this.released = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

@Controller('echo')
@Authenticated()
class EchoController {
  @Get()
  async echo(): Promise<{ requestId: string | undefined }> {
    // Still the request's id after an await, in anything the handler calls.
    await new Promise((resolve) => setImmediate(resolve));
    return { requestId: currentRequestId() };
  }
}

describe.each(ADAPTERS)('audit pipeline and request ids (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;
  const sink = new StuckSink();

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          trustedProxies: ['loopback'],
          propagateRequestId: true,
          audit: { sink, bufferSize: 5 },
        }),
      ],
      controllers: [EchoController],
    })
    class PipelineApp {}
    const listening = await listenApp(PipelineApp, adapter);
    app = listening.app;
    url = `${listening.url}/echo`;
  });
  afterAll(async () => {
    sink.release();
    await app?.close();
    await issuer?.close();
  });

  it("uses a trusted proxy's X-Request-Id, echoes it, and makes it current in the handler", async () => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${issuer.sign()}`, 'x-request-id': 'edge-42.a' },
    });
    expect(response.headers.get('x-request-id')).toBe('edge-42.a');
    expect(await response.json()).toEqual({ requestId: 'edge-42.a' });
    const malformed = await fetch(url, {
      headers: { authorization: `Bearer ${issuer.sign()}`, 'x-request-id': 'a'.repeat(200) },
    });
    const generated = malformed.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(await malformed.json()).toEqual({ requestId: generated });
  });

  it('answers every request while the sink is stuck, dropping and counting the overflow', async () => {
    const audit = app.get(AuditService);
    const before = audit.dropped + audit.pending + sink.writes;
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(url, { headers: { authorization: `Bearer ${issuer.sign()}` } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 40 }, () => 200));
    // One write hangs in the sink, five events wait, the rest are dropped: nothing blocked.
    expect(sink.writes).toBe(1);
    expect(audit.pending).toBe(5);
    expect(audit.dropped + audit.pending + sink.writes - before).toBe(40);
    const { body } = await app.get(ZeroTrustMetrics).scrape();
    expect(body).toContain(`zero_trust_audit_events_dropped_total ${audit.dropped}`);
  });
});
