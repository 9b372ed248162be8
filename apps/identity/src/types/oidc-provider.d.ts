/**
 * Minimal type declarations for `oidc-provider@8`, which ships no types of its own.
 *
 * Only the parts of the API this app uses are described; they were written against the
 * library's source (`node_modules/oidc-provider/lib`), not copied from any other typings.
 */
declare module 'oidc-provider' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** A JSON Web Key as accepted in the provider's `jwks` configuration. */
  export interface ProviderJwk {
    kty: string;
    kid?: string;
    alg?: string;
    use?: string;
    [member: string]: unknown;
  }

  /** Static client metadata (snake_case, as in RFC 7591). */
  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    client_name?: string;
    application_type?: 'web' | 'native';
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    token_endpoint_auth_method?: string;
    id_token_signed_response_alg?: string;
    scope?: string;
    [member: string]: unknown;
  }

  /** A registered client, as seen by configuration helpers. */
  export interface Client {
    readonly clientId: string;
    readonly clientAuthMethod: string;
    readonly applicationType: string;
    readonly backchannelLogoutUri?: string;
    grantTypeAllowed(type: string): boolean;
    /** Whether codes, ID and access tokens of this client carry `sid` (back-channel logout). */
    includeSid(): boolean;
  }

  /** Fields common to the token-like models passed to configuration helpers. */
  export interface BaseTokenModel {
    readonly kind: string;
    readonly jti: string;
    readonly clientId?: string;
    readonly accountId?: string;
    readonly grantId?: string;
    readonly scope?: string;
    /** The session id for this client, when the client includes it (`Client#includeSid`). */
    readonly sid?: string;
  }

  /** An authorization code or refresh token: both remember how the End-User authenticated. */
  export interface AuthenticatedTokenModel extends BaseTokenModel {
    readonly acr?: string;
    readonly amr?: string[];
    readonly authTime?: number;
  }

  /** An End-User session at the provider (`ctx.oidc.session`). */
  export interface Session {
    readonly accountId?: string;
    /** The storage id before `resetIdentifier()`, until the session is saved again. */
    readonly oldId?: string;
    /** Set once `destroy()` ran (RP-initiated logout with `logout=yes`). */
    readonly destroyed?: boolean;
    readonly authorizations?: Record<
      string,
      { sid?: string; grantId?: string; persistsLogout?: boolean }
    >;
  }

  /** The provider-specific request context, `ctx.oidc`. */
  export interface OIDCContext {
    /** The name of the matched route, e.g. `token`, `revocation`, `end_session_confirm`. */
    readonly route?: string;
    readonly session?: Session;
    readonly client?: Client;
    readonly params?: Readonly<Record<string, unknown>>;
    readonly entities: {
      readonly AuthorizationCode?: AuthenticatedTokenModel;
      readonly RefreshToken?: AuthenticatedTokenModel;
      readonly Client?: Client;
      readonly [entity: string]: unknown;
    };
  }

  /** The Koa context handed to configuration helpers. */
  export interface KoaContextWithOIDC {
    oidc: OIDCContext;
    type: string;
    body: unknown;
    status: number;
    readonly host: string;
    readonly path: string;
    readonly method: string;
    /** The connection: a `TLSSocket` on the IdP's mutual-TLS listener. */
    readonly socket: import('node:net').Socket;
  }

  /** What `findAccount` resolves to. */
  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: Record<string, unknown>,
      rejected: string[],
    ):
      | Promise<Record<string, unknown> & { sub: string }>
      | (Record<string, unknown> & { sub: string });
  }

  /** A Resource Server (API) description returned by `getResourceServerInfo`. */
  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } | false };
  }

  /** The error payload handed to `renderError`. */
  export interface ErrorOut {
    error: string;
    error_description?: string;
    [member: string]: unknown;
  }

  type TtlValue<T> = number | ((ctx: KoaContextWithOIDC, token: T, client: Client) => number);

  /** The subset of the provider configuration this app sets. */
  export interface Configuration {
    acrValues?: string[];
    adapter?: (modelName: string) => Adapter;
    claims?: Record<string, string[] | null>;
    clientAuthMethods?: string[];
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    clients?: ClientMetadata[];
    clockTolerance?: number;
    cookies?: {
      keys?: string[];
      long?: { signed?: boolean; httpOnly?: boolean; sameSite?: 'lax' | 'strict' | 'none' };
      short?: { signed?: boolean; httpOnly?: boolean; sameSite?: 'lax' | 'strict' | 'none' };
    };
    extraTokenClaims?: (
      ctx: KoaContextWithOIDC | undefined,
      token: BaseTokenModel,
    ) => Promise<Record<string, unknown> | undefined>;
    /** Extra discovery metadata, e.g. RFC 8705 `mtls_endpoint_aliases`. */
    discovery?: Record<string, unknown>;
    features?: {
      clientCredentials?: { enabled: boolean };
      /** RFC 9449: DPoP-bound tokens for clients that send proofs. */
      dPoP?: {
        enabled: boolean;
        nonceSecret?: Buffer;
        requireNonce?: (ctx: KoaContextWithOIDC) => boolean;
        allowReplay?: boolean;
      };
      /** RFC 8705: mutual-TLS client authentication and certificate-bound access tokens. */
      mTLS?: {
        enabled: boolean;
        certificateBoundAccessTokens?: boolean;
        tlsClientAuth?: boolean;
        selfSignedTlsClientAuth?: boolean;
        getCertificate?: (ctx: KoaContextWithOIDC) => string | undefined;
        certificateAuthorized?: (ctx: KoaContextWithOIDC) => boolean;
        certificateSubjectMatches?: (
          ctx: KoaContextWithOIDC,
          property: string,
          expected: string,
        ) => boolean;
      };
      devInteractions?: { enabled: boolean };
      /** OpenID Connect Back-Channel Logout 1.0. */
      backchannelLogout?: { enabled: boolean };
      introspection?: { enabled: boolean };
      revocation?: { enabled: boolean };
      userinfo?: { enabled: boolean };
      rpInitiatedLogout?: {
        enabled: boolean;
        logoutSource?: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
        postLogoutSuccessSource?: (ctx: KoaContextWithOIDC) => Promise<void>;
      };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (
          ctx: KoaContextWithOIDC,
          client: Client,
          oneOf?: string[],
        ) => Promise<string | string[] | undefined>;
        useGrantedResource?: (ctx: KoaContextWithOIDC, model: unknown) => Promise<boolean>;
        getResourceServerInfo?: (
          ctx: KoaContextWithOIDC,
          resourceIndicator: string,
          client: Client,
        ) => Promise<ResourceServerInfo>;
      };
    };
    findAccount?: (
      ctx: KoaContextWithOIDC,
      sub: string,
      token?: unknown,
    ) => Promise<Account | undefined>;
    interactions?: {
      url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => Promise<string> | string;
    };
    jwks?: { keys: ProviderJwk[] };
    pkce?: {
      methods?: string[];
      required?: (ctx: KoaContextWithOIDC, client: Client) => boolean;
    };
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => Promise<void>;
    responseTypes?: string[];
    rotateRefreshToken?: boolean | ((ctx: KoaContextWithOIDC) => boolean | Promise<boolean>);
    scopes?: string[];
    ttl?: {
      AccessToken?: TtlValue<BaseTokenModel>;
      AuthorizationCode?: TtlValue<BaseTokenModel>;
      ClientCredentials?: TtlValue<BaseTokenModel>;
      Grant?: TtlValue<unknown>;
      IdToken?: TtlValue<unknown>;
      Interaction?: number | ((ctx: KoaContextWithOIDC, interaction: Interaction) => number);
      RefreshToken?: TtlValue<BaseTokenModel>;
      Session?: number | ((ctx: KoaContextWithOIDC, session: unknown) => number);
    };
  }

  /** A payload stored through an {@link Adapter}. */
  export interface AdapterPayload {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: unknown;
    [member: string]: unknown;
  }

  /** The storage interface the provider uses for every model. */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** A pending prompt of an interaction. */
  export interface PromptDetail {
    name: 'login' | 'consent' | (string & {});
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      login_hint?: string;
      [member: string]: unknown;
    };
  }

  /** An interaction session, as returned by `provider.interactionDetails()`. */
  export interface Interaction {
    readonly uid: string;
    readonly prompt: PromptDetail;
    readonly params: Record<string, unknown> & { client_id?: string; scope?: string };
    readonly session?: { accountId?: string; uid?: string };
    readonly grantId?: string;
    readonly returnTo: string;
  }

  /** The result submitted with `provider.interactionFinished()`. */
  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  /** A Grant: what an End-User allowed a client to obtain. */
  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  /** The Grant model class. */
  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
    readonly adapter: Adapter;
  }

  /** A token model class whose records can be revoked by grant. */
  export interface GrantBoundModel {
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** A registered client, with the undocumented back-channel logout sender (8.8.1). */
  export interface ClientWithLogout extends Client {
    /** Sends a logout token to the client's `backchannel_logout_uri`; rejects on non-200/204. */
    backchannelLogout(accountId: string, sid: string): Promise<void>;
  }

  /** The OpenID Provider. */
  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly AccessToken: GrantBoundModel;
    readonly RefreshToken: GrantBoundModel;
    readonly AuthorizationCode: GrantBoundModel;
    readonly Session: { readonly adapter: Adapter };
    readonly Client: { find(clientId: string): Promise<ClientWithLogout | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  /** Errors thrown by, and to, the provider. */
  export namespace errors {
    class OIDCProviderError extends Error {
      constructor(status?: number, message?: string);
      readonly error: string;
      readonly error_description?: string;
      readonly status: number;
      readonly statusCode: number;
      readonly expose: boolean;
    }
    class InvalidRequest extends OIDCProviderError {
      constructor(description?: string, code?: number, detail?: string);
    }
    class SessionNotFound extends InvalidRequest {}
    class InvalidTarget extends OIDCProviderError {
      constructor(description?: string, detail?: string);
    }
    /** `invalid_scope` (400): the request names a scope the client may not have. */
    class InvalidScope extends OIDCProviderError {
      constructor(description: string, scope: string, detail?: string);
    }
  }

  export default Provider;
}
