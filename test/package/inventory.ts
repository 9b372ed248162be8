// The fresh application's root module for the route inventory: scripts/package-check.js runs
// `npx nestjs-zero-trust routes --module dist/inventory.js --json` in the ESM and the CommonJS app.
import { Controller, Get, Module } from '@nestjs/common';
import { Can, Public, ZeroTrustModule } from 'nestjs-zero-trust';

@Controller()
class InvoicesController {
  @Public()
  @Get('health')
  health(): string {
    return 'ok';
  }

  @Can('read', 'Invoice')
  @Get('invoices')
  list(): string[] {
    return [];
  }
}

/** Booted by the command without listening: the issuer is never contacted. */
@Module({
  imports: [
    ZeroTrustModule.forRoot({
      issuer: 'https://issuer.example.com',
      audience: 'https://api.example.com',
      abilities: {
        user: (_user, _env, { can }) => {
          can('read', 'Invoice');
        },
      },
    }),
  ],
  controllers: [InvoicesController],
})
export class AppModule {}
