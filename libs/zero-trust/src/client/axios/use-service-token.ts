import { Agent as HttpsAgent } from 'node:https';

import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

import {
  asksForDpopNonce,
  checkAudience,
  type ServiceToken,
  type ServiceTokenClient,
} from '../service-token-client.js';
import type { ClientTlsOptions } from '../validate-client-options.js';

/** An axios instance, or what holds one as `axiosRef` (`HttpService`). @publicApi */
export type AxiosTarget = AxiosInstance | { readonly axiosRef: AxiosInstance };

/** Options of {@link useServiceToken}. @publicApi */
export interface UseServiceTokenOptions {
  /** The resource indicator (RFC 8707) of the tokens sent by this instance. */
  audience: string;
  /** The only origins that get tokens, so none goes to another host. @default every origin */
  origins?: readonly string[];
}

/** The interceptors installed by {@link useServiceToken}; `eject()` removes them. */
export interface ServiceTokenInterceptors {
  /** Removes both interceptors from the instance. */
  eject(): void;
}

/** Marks the config of the one retry, so a second 401 is returned as it is. */
const RETRIED = 'zeroTrustRetried';

type Config = InternalAxiosRequestConfig & { [RETRIED]?: boolean };

/**
 * Makes an axios instance call with service tokens from `client`, as
 * {@link ServiceTokenClient.fetch} does. @throws TypeError for a bad audience or origin @publicApi
 */
export function useServiceToken(
  target: AxiosTarget,
  client: ServiceTokenClient,
  options: UseServiceTokenOptions,
): ServiceTokenInterceptors {
  const instance = 'axiosRef' in target ? target.axiosRef : target;
  const { audience } = options;
  checkAudience(audience); // at wiring time, not on the first call
  const origins = options.origins?.map((origin) => new URL(origin).origin);
  // The token each request went out with (the config travels with the response).
  const sent = new WeakMap<InternalAxiosRequestConfig, ServiceToken>();

  const request = instance.interceptors.request.use(async (config: Config) => {
    const url = new URL(instance.getUri(config));
    if (origins && !origins.includes(url.origin)) return config;
    const token = await client.getToken(audience);
    const method = config.method ?? 'get';
    const headers = await client.authorizationHeaders(audience, { method, url, token });
    for (const [name, value] of Object.entries(headers)) config.headers.set(name, value);
    sent.set(config, token);
    return config;
  });

  const retry = async (response: AxiosResponse): Promise<AxiosResponse | undefined> => {
    const config = response.config as Config | undefined;
    const token = config ? sent.get(config) : undefined;
    if (!config || !token) return undefined;
    client.rememberDpopNonce(instance.getUri(config), header(response, 'dpop-nonce'));
    if (response.status !== 401 || config[RETRIED] === true || !replayable(config.data))
      return undefined;
    if (!asksForDpopNonce(token, (name) => header(response, name)))
      client.invalidate(audience, token);
    return instance.request({ ...config, [RETRIED]: true } as Config);
  };

  const response = instance.interceptors.response.use(
    async (answer) => (await retry(answer)) ?? answer,
    async (error: unknown) => {
      const answer = (error as Partial<AxiosError> | null)?.isAxiosError
        ? (error as AxiosError).response
        : undefined;
      const retried = answer ? await retry(answer) : undefined;
      if (retried) return retried;
      throw error;
    },
  );

  return {
    eject: () => {
      instance.interceptors.request.eject(request);
      instance.interceptors.response.eject(response);
    },
  };
}

/**
 * A keep-alive `https.Agent` presenting the client certificate, for axios's `httpsAgent`
 * (destroy it on shutdown). @publicApi
 */
export function mutualTlsAgent(tls: ClientTlsOptions): HttpsAgent {
  return new HttpsAgent({
    key: tls.key,
    cert: tls.cert,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    keepAlive: true,
    minVersion: 'TLSv1.2',
  });
}

/** A response header, whether axios gives `AxiosHeaders` or a plain object. */
function header(response: AxiosResponse, name: string): string | undefined {
  const headers = response.headers as Record<string, unknown> & { get?: (n: string) => unknown };
  const value = typeof headers.get === 'function' ? headers.get(name) : headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A stream cannot be sent twice. */
function replayable(data: unknown): boolean {
  const pipe = (data as { pipe?: unknown } | null)?.pipe;
  return typeof pipe !== 'function' && !(data instanceof ReadableStream);
}
