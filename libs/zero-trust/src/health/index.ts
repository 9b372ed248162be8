/**
 * `nestjs-zero-trust/health`: Terminus indicators (needs the optional peer `@nestjs/terminus`).
 * @packageDocumentation
 */
export { ZeroTrustHealthIndicator } from './zero-trust.health.js';
