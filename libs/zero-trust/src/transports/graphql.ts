/**
 * `nestjs-zero-trust/graphql`: what GraphQL resolvers use of the zero-trust pipeline beyond the
 * main entry's decorators. The pipeline itself is on with the module; nothing here loads
 * `@nestjs/graphql`.
 *
 * @packageDocumentation
 */
export { parentOf } from './graphql-fields.js';
export { refuseWholeOperation } from './graphql-operation.js';
