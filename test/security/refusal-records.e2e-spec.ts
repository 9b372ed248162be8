import { Controller, Get, Module, NotFoundException, type INestApplication } from '@nestjs/common';
import { AuditService, type AuditSink, type DecisionEvent } from 'nestjs-zero-trust/audit';
import { Can, ZeroTrustModule, type AbilityDefinitions } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import { listenApp } from '../support/nest-app.js';

/**
 * Every refused request writes exactly one decision record, and it says deny: whatever refused
 * it (a resolver's own HTTP error, a resolver that failed, an ability definition that threw),
 * and even when records of allowed requests are not written at all (`audit.allows: false`).
 */

class MemorySink implements AuditSink {
  readonly events: DecisionEvent[] = [];
  write(event: DecisionEvent): void {
    this.events.push(event);
  }
}

@Controller('docs')
class DocsController {
  @Get('missing/:id')
  @Can('read', 'Doc', {
    resolve: () => {
      throw new NotFoundException('No such doc');
    },
  })
  missing(): string {
    return 'never';
  }

  @Get('broken/:id')
  @Can('read', 'Doc', {
    resolve: () => {
      throw new Error('database down');
    },
  })
  broken(): string {
    return 'never';
  }

  @Get()
  @Can('read', 'Doc')
  list(): string[] {
    return [];
  }
}

const abilities: AbilityDefinitions = {
  user: (principal, _env, { can }) => {
    if (principal.id === 'breaks-the-policy') throw new Error('definition bug');
    can('read', 'Doc');
  },
};

describe.each(ADAPTERS)('refusals are recorded as refusals (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;
  const sink = new MemorySink();

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          abilities,
          audit: { sink, allows: false },
        }),
      ],
      controllers: [DocsController],
    })
    class RefusalApp {}
    const listening = await listenApp(RefusalApp, adapter);
    app = listening.app;
    url = `${listening.url}/docs`;
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  /** The status of one request as `sub`, and the decision records it wrote. */
  async function send(
    path: string,
    sub = 'alice',
  ): Promise<{ status: number; records: DecisionEvent[] }> {
    const before = sink.events.length;
    const response = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${issuer.sign({ sub })}` },
    });
    await response.text();
    const audit = app.get(AuditService);
    // A record written when the response closes may follow the answer by a few turns.
    for (let turn = 0; turn < 100 && sink.events.length === before; turn += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await audit.flush();
    }
    await audit.flush();
    const records = sink.events.slice(before).filter((event) => event.stages !== undefined);
    return { status: response.status, records };
  }

  it("records a resolver's own HTTP error as a deny with its status", async () => {
    const { status, records } = await send('/missing/d-1');
    expect(status).toBe(404);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ decision: 'deny', action: 'authz_fail' });
    expect(records[0]?.reason).toContain('HTTP 404');
    expect(records[0]?.stages?.map((stage) => stage.decision)).toEqual(['allow', 'deny']);
  });

  it('records a failing resolver as a deny with ZT_RESOLVER_FAILED', async () => {
    const { status, records } = await send('/broken/d-1');
    expect(status).toBe(503);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ decision: 'deny', code: 'ZT_RESOLVER_FAILED' });
  });

  it('records an ability definition that threw (503 ZT_POLICY_FAILED) as a deny', async () => {
    const { status, records } = await send('', 'breaks-the-policy');
    expect(status).toBe(503);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ decision: 'deny', action: 'authz_fail' });
    expect(records[0]?.reason).toContain('HTTP 503');
  });

  it('writes no record for an allowed request (allows: false): the refusals above are not sampled', async () => {
    const { status, records } = await send('');
    expect(status).toBe(200);
    expect(records).toHaveLength(0);
  });
});
