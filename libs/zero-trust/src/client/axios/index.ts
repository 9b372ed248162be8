/**
 * `nestjs-zero-trust/axios`: service tokens on axios instances and `@nestjs/axios`'s
 * `HttpService` (optional peers `axios` and `@nestjs/axios`, hence its own entry point).
 *
 * @packageDocumentation
 */
export {
  mutualTlsAgent,
  useServiceToken,
  type AxiosTarget,
  type ServiceTokenInterceptors,
  type UseServiceTokenOptions,
} from './use-service-token.js';
