// A fresh application built against the packed library (scripts/package-check.js compiles it
// once as an ES module and once as CommonJS, with skipLibCheck: false). It boots, then proves
// default deny, a token from the testing kit's issuer, and @Can.
import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Can, Public, ZeroTrustModule } from 'nestjs-zero-trust';
import { TestIssuer } from 'nestjs-zero-trust/testing';

@Controller()
class InvoicesController {
  @Public()
  @Get('health')
  health(): { status: string } {
    return { status: 'ok' };
  }

  @Can('read', 'Invoice')
  @Get('invoices')
  list(): { id: string }[] {
    return [{ id: 'inv-1' }];
  }
}

async function main(): Promise<void> {
  const issuer = await TestIssuer.start({ audience: 'https://api.example.com' });
  @Module({
    imports: [
      ZeroTrustModule.forRoot({
        issuer: issuer.url,
        audience: issuer.audience,
        abilities: {
          user: (user, _env, { can }) => {
            if (user.roles.includes('accountant')) can('read', 'Invoice');
          },
        },
      }),
    ],
    controllers: [InvoicesController],
  })
  class AppModule {}

  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(AppModule, { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const status = async (path: string, token?: string): Promise<number> =>
      (
        await fetch(`${url}${path}`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        })
      ).status;
    const seen = {
      public: await status('/health'),
      anonymous: await status('/invoices'),
      accountant: await status('/invoices', issuer.sign({ sub: 'alice', roles: ['accountant'] })),
      customer: await status('/invoices', issuer.sign({ sub: 'carol', roles: ['customer'] })),
    };
    console.log(JSON.stringify(seen));
    const expected = { public: 200, anonymous: 401, accountant: 200, customer: 403 };
    if (JSON.stringify(seen) !== JSON.stringify(expected)) process.exitCode = 1;
  } finally {
    await app?.close();
    await issuer.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
