import {
  BadGatewayException,
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Inject,
  Post,
} from '@nestjs/common';
import { Can, RevocationService, RiskPolicy, Scopes } from 'nestjs-zero-trust';
import { DEMO_MFA_ACR } from '../policies.js';

/**
 * Token revocation for admins: one token by `jti`, or every token of a subject or IdP session.
 *
 * Only users act here, yet the route also requires the `revocations:write` scope: logging anyone
 * out is the API's most far-reaching change, and the scope lets the IdP decide which client may
 * carry that power on an admin's behalf (today only `demo-cli` is registered for it), so an
 * admin's token held by some other client cannot revoke.
 */
/** Injection token of the IdP's admin interface (its URL and secret), when configured. */
export const IDP_ADMIN = Symbol('IDP_ADMIN');

@Controller('admin/revocations')
export class RevocationsController {
  constructor(
    private readonly revocations: RevocationService,
    @Inject(IDP_ADMIN) private readonly idp: { issuer: string; secret: string } | undefined,
  ) {}

  /**
   * `{ "jti": "...", "exp": 1767225600 }` revokes one token (exp optional);
   * `{ "subject": "bob" }` every token bob holds now ("log out everywhere"), and those refreshed
   * later from a login before now; `{ "session": "<sid>" }` the same for one IdP session.
   */
  @Post()
  @HttpCode(201)
  @Scopes('revocations:write')
  @Can('create', 'Revocation')
  @RiskPolicy({ maxScore: 30, acr: DEMO_MFA_ACR, maxAuthAge: 300 })
  async revoke(
    @Body() body: unknown,
  ): Promise<{ revoked: 'token' | 'subject' | 'session'; id: string }> {
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const { jti, exp, subject, session } = fields;
    const named = [jti, subject, session].filter((value) => value !== undefined);
    const id = named[0];
    if (named.length !== 1 || typeof id !== 'string' || id.length === 0)
      throw new BadRequestException(
        'Give exactly one of "jti" (and optionally "exp"), "subject" or "session"',
      );
    if (exp !== undefined && (jti === undefined || !Number.isInteger(exp)))
      throw new BadRequestException('"exp" must be an integer (seconds), with "jti"');
    if (jti !== undefined) {
      await this.revocations.revokeToken(id, exp as number | undefined);
      return { revoked: 'token', id };
    }
    if (subject !== undefined) {
      await this.revocations.revokeSubject(id);
      await this.endGrantsAtIdp(id);
      return { revoked: 'subject', id };
    }
    await this.revocations.revokeSession(id);
    return { revoked: 'session', id };
  }

  /**
   * A cutoff at the API outlives no refresh token: the IdP ends the subject's grants too (its
   * admin interface), so no new access token comes from them. Revoking is idempotent: on a 502
   * the admin retries the whole request.
   */
  private async endGrantsAtIdp(subject: string): Promise<void> {
    if (this.idp === undefined) return;
    const url = `${this.idp.issuer}/admin/accounts/${encodeURIComponent(subject)}/revoke`;
    const basic = Buffer.from(`admin:${this.idp.secret}`).toString('base64');
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      redirect: 'error',
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
    // 404: the IdP has no such account, so no grant to end.
    if (response === undefined || (!response.ok && response.status !== 404))
      throw new BadGatewayException(
        'The API refuses the tokens, but the identity provider could not end the grants: retry',
      );
  }
}
