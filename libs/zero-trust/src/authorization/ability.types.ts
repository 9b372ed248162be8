import type { AbilityBuilder, MongoAbility } from '@casl/ability';
import type { Principal, PrincipalKind } from '../identity/principal.interface.js';

/** The ability the library builds: a CASL 7 `MongoAbility` over string subjects. @publicApi */
export type ZeroTrustAbility = MongoAbility;

/**
 * Request context handed to ability definitions; an ability whose definition reads it is rebuilt
 * for each request instead of cached. @publicApi
 */
export interface AbilityEnv {
  /** When the request is being decided. */
  readonly time: Date;
  /** The client address as the HTTP server sees it. */
  readonly ip: string | undefined;
  readonly requestId: string;
  /** Risk score 0–100 of the request, when context risk is on (assessed on first read). */
  readonly risk?: number;
  /** Country (ISO 3166-1 alpha-2) of the client address, when geolocation knows it. */
  readonly country?: string;
  /** Further attributes a later stage adds. */
  readonly [key: string]: unknown;
}

/**
 * Defines what one kind of principal may do, by adding rules to a CASL `AbilityBuilder`. @publicApi
 */
export type AbilityDefinition = (
  principal: Principal,
  env: AbilityEnv,
  builder: AbilityBuilder<ZeroTrustAbility>,
) => void | Promise<void>;

/**
 * Ability definitions per principal kind. A kind without a definition may do nothing. @publicApi
 */
export type AbilityDefinitions = Partial<Record<PrincipalKind, AbilityDefinition>>;
