import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/**
 * Starts a bench server (the bare route or the docs recipe) on 127.0.0.1, on the adapter named
 * by BENCH_ADAPTER (`express` or `fastify`) and the port named by PORT.
 */
export async function listen(module: object): Promise<INestApplication> {
  const adapter = process.env.BENCH_ADAPTER ?? 'express';
  const port = Number(process.env.PORT ?? 0);
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error', 'warn'] })
      : await NestFactory.create(module, { logger: ['error', 'warn'] });
  await app.listen(port, '127.0.0.1');
  console.log(`bench server (${adapter}) listening on ${await app.getUrl()}`);
  return app;
}

/** One invoice, the same record the demo serves as inv-1. */
export const INVOICE = {
  id: 'inv-1',
  ownerId: 'alice',
  customerId: 'bob',
  status: 'draft',
  amount: 120_000,
  description: 'Consulting, October',
  dueDate: '2026-12-31',
};
