import { Inject, Logger, Optional } from '@nestjs/common';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  AuthorizationService,
  AuthorizedResource,
  Can,
  CurrentPrincipal,
  POLICY_DECISION_POINT,
  Scopes,
  type PolicyDecisionPoint,
  type Principal,
} from 'nestjs-zero-trust';
import type { Invoice } from './invoice.entity.js';
import { InvoiceRepository } from './invoice.repository.js';
import { InvoiceResolver } from './invoice.resolver.js';

/** The socket of a watcher, as far as the gateway uses it. */
interface Socket {
  readonly readyState: number;
  send(data: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Invoice updates pushed over a WebSocket at `/ws`. A client authenticates (an `Authorization`
 * header, or a first message `{ "event": "authenticate", "data": { "token": "..." } }` from a
 * browser), then watches an invoice with `{ "event": "invoices.watch", "data": { "id": "inv-1" } }`:
 * allowed under the policy of `GET /invoices/:id` (scope `invoices:read`, `read` on the record).
 * Each change of the invoice is pushed as `invoice.updated` to the watchers that may still read
 * it as changed; the library closes the socket when its token expires or is revoked.
 */
@WebSocketGateway({ path: '/ws' })
export class InvoiceUpdatesGateway {
  private readonly logger = new Logger('InvoiceUpdates');
  /** Watchers of each invoice: their sockets and principals. */
  private readonly watchers = new Map<string, Map<Socket, Principal>>();

  constructor(
    invoices: InvoiceRepository,
    private readonly authorization: AuthorizationService,
    @Optional() @Inject(POLICY_DECISION_POINT) private readonly pdp?: PolicyDecisionPoint,
  ) {
    invoices.onChange((invoice) => void this.push(invoice));
  }

  @SubscribeMessage('invoices.watch')
  @Scopes('invoices:read')
  @Can('read', 'Invoice', { resolve: InvoiceResolver })
  watch(
    @ConnectedSocket() socket: Socket,
    @AuthorizedResource() invoice: Invoice,
    @CurrentPrincipal() principal: Principal,
  ): { event: string; data: Invoice } {
    let watching = this.watchers.get(invoice.id);
    if (watching === undefined) this.watchers.set(invoice.id, (watching = new Map()));
    if (!watching.has(socket)) socket.once('close', () => watching.delete(socket));
    watching.set(socket, principal);
    return { event: 'invoices.watching', data: invoice };
  }

  /** Sends the changed invoice to each watcher that may read it as it is now. */
  private async push(invoice: Invoice): Promise<void> {
    for (const [socket, principal] of this.watchers.get(invoice.id) ?? []) {
      if (!(await this.mayRead(principal, invoice)) || socket.readyState !== 1) continue;
      socket.send(JSON.stringify({ event: 'invoice.updated', data: invoice }));
    }
  }

  /** The same policy as the guards (CASL, or the Cerbos PDP); an engine failure pushes nothing. */
  private async mayRead(principal: Principal, invoice: Invoice): Promise<boolean> {
    try {
      if (this.pdp === undefined) {
        const ability = await this.authorization.abilityFor(principal);
        return this.authorization.can(ability, 'read', 'Invoice', invoice);
      }
      const environment = { time: new Date(), ip: undefined, requestId: 'invoice-push' };
      const resource = { kind: 'Invoice', id: invoice.id, attributes: { ...invoice } };
      const [verdict] = await this.pdp.check(principal, environment, [
        { resource, action: 'read', fields: [] },
      ]);
      return verdict?.allowed === true;
    } catch (error) {
      this.logger.warn(`Invoice ${invoice.id} not pushed: ${String(error)}`);
      return false;
    }
  }
}
