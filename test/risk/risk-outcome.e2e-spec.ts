import { Controller, ForbiddenException, Get, Module, type INestApplication } from '@nestjs/common';
import { Authenticated, ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/demo-api.js';
import { listenApp } from '../support/nest-app.js';

@Controller()
@Authenticated()
class OutcomeController {
  @Get('ok')
  ok(): { ok: true } {
    return { ok: true };
  }

  @Get('forbidden')
  forbidden(): never {
    throw new ForbiddenException();
  }
}

// The risk guard learns from the status a response was actually sent with: a handler's 403s
// count towards a failure burst, which the next request is judged by.
describe.each(ADAPTERS)('risk learning from responses (%s)', (adapter) => {
  let issuer: TestIssuer;
  let app: INestApplication | undefined;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    @Module({
      imports: [
        ZeroTrustModule.forRoot({
          issuer: issuer.url,
          audience: issuer.audience,
          risk: { failures: { threshold: 3 } },
        }),
      ],
      controllers: [OutcomeController],
    })
    class OutcomeApp {}
    ({ app, url } = await listenApp(OutcomeApp, adapter));
  });
  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  it("counts a handler's 403s as failures, and steps up the principal after the burst", async () => {
    const headers = { authorization: `Bearer ${issuer.sign({ sub: 'ann' })}` };
    expect((await fetch(`${url}/ok`, { headers })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${url}/forbidden`, { headers })).status).toBe(403);
    }
    const after = await fetch(`${url}/ok`, { headers });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    );
  });
});
