import { renderPermissionMatrix, type PermissionMatrixOptions } from 'nestjs-zero-trust/testing';
import { DEMO_ABILITIES, DEMO_SERVICES } from './policies.js';

/** Who, what and on what the demo's permission matrix covers. */
export const DEMO_MATRIX: PermissionMatrixOptions = {
  title: 'Demo invoicing API: permission matrix',
  principals: [
    { kind: 'user', roles: ['admin'], label: 'admin' },
    { kind: 'user', roles: ['accountant'], label: 'accountant' },
    { kind: 'user', roles: ['customer'], label: 'customer' },
    { kind: 'user', roles: [], label: 'user without role' },
    ...Object.entries(DEMO_SERVICES).map(([id, registration]) => ({
      kind: 'service' as const,
      id,
      label: id,
      roles: registration.roles ?? [],
    })),
  ],
  actions: ['read', 'create', 'update', 'delete'],
  subjects: [
    'Invoice',
    'InvoiceTransition',
    'Payment',
    'PaymentEvent',
    'Report',
    'Revocation',
    'Metrics',
  ],
};

/** The demo's matrix as committed in `docs/permission-matrix.md` (`npm run matrix`). */
export function renderDemoMatrix(): Promise<string> {
  return renderPermissionMatrix(DEMO_ABILITIES, DEMO_MATRIX);
}
