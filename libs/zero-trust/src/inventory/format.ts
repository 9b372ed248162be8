import type { BootedInventory } from './boot.js';
import type { InventoryRoute } from './inventory.js';

/** A route's policy in decorator terms, e.g. `@Scopes(invoices:read) @Can(read, Invoice, InvoiceResolver)`. */
export function describePolicy(route: InventoryRoute): string {
  const { policy, mode } = route;
  // What an unprotected route does depends on the mode: the guard denies it, or reports it.
  if (policy.none) return mode === 'enforce' ? 'NONE (denied)' : 'NONE (served, would-deny)';
  if (policy.public) return '@Public';
  const parts: string[] = [];
  if (policy.authenticated) parts.push('@Authenticated');
  if (policy.scopes.length > 0) parts.push(`@Scopes(${policy.scopes.join(' ')})`);
  for (const check of policy.checks) {
    const how = [
      check.resolver === null ? [] : [`resolve ${check.resolver}`],
      check.typeLevel ? ['type-level'] : [],
      check.fields === null ? [] : [`fields ${check.fields}`],
    ].flat();
    parts.push(`@Can(${[check.action, check.subject, ...how].join(', ')})`);
  }
  return parts.join(' ');
}

function describeRisk(route: InventoryRoute): string {
  if (route.risk === null) return 'off';
  const set = Object.entries(route.risk.policy).filter(([, value]) => value !== undefined);
  const policy = set.length === 0 ? 'module' : set.map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return route.risk.mode === 'enforce' ? policy : `${policy} (report-only)`;
}

/** The inventory as a plain-text table, then what the boot-time audit warned about. */
export function formatTable(inventory: BootedInventory): string {
  const header = ['TRANSPORT', 'METHOD', 'PATH', 'HANDLER', 'MODE', 'RISK', 'POLICY'];
  const rows = inventory.routes.map((route) => [
    route.transport,
    route.method,
    route.path,
    route.handler,
    route.mode,
    describeRisk(route),
    describePolicy(route),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  const unprotected = inventory.routes.filter((route) => route.policy.none).length;
  const summary = [
    `${inventory.routes.length} routes, mode ${inventory.mode}, strictRouteAudit ${String(inventory.strictRouteAudit)}`,
    ...(unprotected > 0 ? [`${unprotected} without a policy`] : []),
  ].join('; ');
  return [
    line(header),
    ...rows.map(line),
    '',
    summary,
    ...(inventory.warnings.length > 0 ? ['Warnings of the route audit:'] : []),
    ...inventory.warnings.map((warning) => `  - ${warning}`),
  ].join('\n');
}
