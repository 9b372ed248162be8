// (b) The NestJS docs recipe: passport-jwt with the public key as a PEM string, AuthGuard('jwt'),
// and a CASL PoliciesGuard building the ability per request with CaslAbilityFactory.
import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { listen } from '../server.js';
import { JwtStrategy } from './auth/jwt.strategy.js';
import { CaslAbilityFactory } from './casl/casl-ability.factory.js';
import { InvoicesController } from './invoices/invoices.controller.js';

@Module({
  imports: [PassportModule],
  controllers: [InvoicesController],
  providers: [JwtStrategy, CaslAbilityFactory],
})
class RecipeModule {}

await listen(RecipeModule);
