import { Controller, Get } from '@nestjs/common';
import { Authenticated, CurrentPrincipal, type Principal } from 'nestjs-zero-trust';

/** Who am I: any verified principal. */
@Controller('me')
export class MeController {
  @Get()
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
