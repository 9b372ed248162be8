import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Can, RevocationService, RiskPolicy, Scopes } from 'nestjs-zero-trust';
import { DEMO_MFA_ACR } from '../policies.js';

/**
 * Token revocation for admins: one token by `jti`, or every token of a subject.
 *
 * Only users act here, yet the route also requires the `revocations:write` scope: logging anyone
 * out is the API's most far-reaching change, and the scope lets the IdP decide which client may
 * carry that power on an admin's behalf (today only `demo-cli` is registered for it), so an
 * admin's token held by some other client cannot revoke.
 */
@Controller('admin/revocations')
export class RevocationsController {
  constructor(private readonly revocations: RevocationService) {}

  /**
   * `{ "jti": "...", "exp": 1767225600 }` revokes one token (exp optional);
   * `{ "subject": "bob" }` revokes every token bob holds now ("log out everywhere").
   */
  @Post()
  @HttpCode(201)
  @Scopes('revocations:write')
  @Can('create', 'Revocation')
  @RiskPolicy({ maxScore: 30, acr: DEMO_MFA_ACR, maxAuthAge: 300 })
  async revoke(@Body() body: unknown): Promise<{ revoked: 'token' | 'subject'; id: string }> {
    const { jti, exp, subject } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (typeof jti === 'string' && jti.length > 0 && subject === undefined) {
      if (exp !== undefined && !Number.isInteger(exp))
        throw new BadRequestException('"exp" must be an integer (seconds)');
      await this.revocations.revokeToken(jti, exp as number | undefined);
      return { revoked: 'token', id: jti };
    }
    if (typeof subject === 'string' && subject.length > 0 && jti === undefined) {
      await this.revocations.revokeSubject(subject);
      return { revoked: 'subject', id: subject };
    }
    throw new BadRequestException('Give either "jti" (and optionally "exp") or "subject"');
  }
}
