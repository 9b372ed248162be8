import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ZeroTrustError } from '../errors/zero-trust.error.js';
import { RouteAuditService } from '../routes/route-audit.service.js';
import { isClass, readInventory, type RouteInventory } from './inventory.js';

/** The inventory with what the boot-time route audit warned about, sorted. */
export type BootedInventory = RouteInventory & { readonly warnings: readonly string[] };

/** A mistake of the command's user (a missing file or export, a boot error): no stack trace. */
export class InventoryInputError extends Error {
  override readonly name = 'InventoryInputError';
}

const isDynamicModule = (value: unknown): value is DynamicModule =>
  typeof value === 'object' && value !== null && isClass((value as { module?: unknown }).module);

/**
 * Imports `file` and returns its export `name` as a root module: a module class, a
 * `DynamicModule`, or a function (not a class) returning either, or a promise of either.
 */
export async function loadRootModule(file: string, name: string): Promise<Type | DynamicModule> {
  const path = resolve(file);
  if (!existsSync(path)) throw new InventoryInputError(`no such file: ${path}`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InventoryInputError(`cannot import ${path}: ${messageOf(error)}`);
  }
  if (!(name in exports)) {
    const names = Object.keys(exports).join(', ') || 'none';
    throw new InventoryInputError(`${path} has no export "${name}" (its exports: ${names})`);
  }
  let value = exports[name];
  if (typeof value === 'function' && !isClass(value)) {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new InventoryInputError(`export "${name}" of ${path} threw: ${messageOf(error)}`);
    }
  }
  if (isClass(value) || isDynamicModule(value)) return value;
  throw new InventoryInputError(
    `export "${name}" of ${path} is not a module: give a module class, a DynamicModule, or a function returning one`,
  );
}

/** The message of an error, with its code when it is one of ours (a boot error lists every problem). */
function messageOf(error: unknown): string {
  if (error instanceof ZeroTrustError) return `[${error.code}] ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Keeps Nest's error lines (without stacks) and the library's warnings, prints nothing. */
class QuietLogger implements LoggerService {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  log(): void {}
  warn(message: unknown, context?: string): void {
    // The route audit's findings (and the module's other boot warnings) are the library's.
    if (context === 'ZeroTrust') this.warnings.push(messageOf(message));
  }
  error(message: unknown): void {
    this.errors.push(messageOf(message));
  }
}

/**
 * Boots `root` as an application context (no HTTP server, no microservice or socket listener),
 * reads its route inventory and closes it. The boot runs every module's init hooks, so the
 * route audit runs as it does at a real start, strict mode included.
 */
export async function inventoryOf(
  root: Type | DynamicModule,
): Promise<{ inventory: BootedInventory; errors: string[] }> {
  const logger = new QuietLogger();
  let app;
  try {
    app = await NestFactory.createApplicationContext(root, { logger, abortOnError: false });
  } catch (error) {
    throw new InventoryInputError(`the application did not boot: ${messageOf(error)}`);
  }
  try {
    try {
      app.get(RouteAuditService, { strict: false });
    } catch {
      throw new InventoryInputError(
        'the application does not import ZeroTrustModule (or loads another copy of nestjs-zero-trust than this command)',
      );
    }
    const inventory = { ...readInventory(app), warnings: [...logger.warnings].sort() };
    return { inventory, errors: logger.errors };
  } finally {
    await app.close();
  }
}
