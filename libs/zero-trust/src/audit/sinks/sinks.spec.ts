import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../decision-event.interface.js';
import { FileAuditSink } from './file-audit.sink.js';
import { HttpAuditSink } from './http-audit.sink.js';
import { PinoAuditSink } from './pino-audit.sink.js';

const event: DecisionEvent = {
  time: '2026-08-21T10:00:00.000Z',
  action: 'authz_fail',
  outcome: 'failure',
  decision: 'deny',
  code: 'ZT_ACCESS_DENIED',
  mode: 'enforce',
  principal: { kind: 'user', id: 'bob' },
  request: { id: 'req-9', method: 'GET', route: '/invoices/:id' },
  authorization: { action: 'read', subject: 'Invoice', subjectId: 'inv-2' },
};

describe('HttpAuditSink', () => {
  let server: Server;
  let url: string;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs each event as one NDJSON line of ECS, with the configured headers', async () => {
    const sink = new HttpAuditSink({
      url,
      headers: { authorization: 'ApiKey collector-key' },
      serviceName: 'demo-api',
    });
    await sink.write(event);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.headers['content-type']).toBe('application/x-ndjson');
    expect(request?.headers.authorization).toBe('ApiKey collector-key');
    expect(request?.body.endsWith('\n')).toBe(true);
    const ecs = JSON.parse(request?.body ?? '') as Record<string, unknown>;
    expect(ecs).toMatchObject({
      event: { action: 'authz_fail', outcome: 'failure' },
      user: { id: 'bob' },
      labels: { application: 'demo-api' },
    });
  });

  it('rejects when the collector refuses, so the event is counted as dropped', async () => {
    status = 503;
    await expect(new HttpAuditSink({ url }).write(event)).rejects.toThrow(
      'the audit collector answered 503',
    );
    status = 200;
  });

  it('refuses a non-HTTP URL', () => {
    expect(() => new HttpAuditSink({ url: 'file:///etc/passwd' })).toThrow(TypeError);
  });

  it('refuses plain HTTP beyond loopback, and credentials in the URL: the key would travel in clear', () => {
    for (const bad of [
      'http://logstash.internal:8080',
      'http://10.0.0.5/ingest',
      'https://user:secret@logstash.internal',
      'not a url',
    ])
      expect(() => new HttpAuditSink({ url: bad })).toThrow(/https URL/);
    for (const good of [
      'https://logstash.internal:8080',
      'http://127.0.0.1:9000',
      'http://[::1]:9000',
    ])
      expect(() => new HttpAuditSink({ url: good })).not.toThrow();
  });
});

describe('FileAuditSink', () => {
  it('appends one ECS event per line to a file only its owner can read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zt-audit-'));
    try {
      const path = join(dir, 'audit.ndjson');
      const sink = new FileAuditSink(path, 'demo-api');
      await sink.write(event);
      await sink.write({ ...event, request: { ...event.request, id: 'req-10' } });
      await sink.close();
      const lines = (await readFile(path, 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { trace: { id: string } }).trace.id)).toEqual([
        'req-9',
        'req-10',
      ]);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PinoAuditSink', () => {
  it('writes the ECS fields at the top level of the pino line, denies at warn', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const sink = new PinoAuditSink(pino({ level: 'info' }, stream));
    sink.write(event);
    sink.write({ ...event, decision: 'allow', outcome: 'success', action: 'authz_success' });
    await new Promise((resolve) => setImmediate(resolve));
    const [denied, allowed] = lines
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(denied).toMatchObject({
      level: 40,
      event: { action: 'authz_fail', category: ['web'] },
      ecs: { version: '8.11.0' },
      user: { id: 'bob' },
    });
    expect(allowed).toMatchObject({ level: 30, event: { action: 'authz_success' } });
  });

  /** What a sink wrote, one entry per write call, with pino's clock pinned. */
  function capture(options: pino.LoggerOptions, bindings?: pino.Bindings) {
    const writes: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        writes.push(chunk.toString());
        done();
      },
    });
    const root = pino({ level: 'info', timestamp: () => ',"time":1', ...options }, stream);
    return { logger: bindings ? root.child(bindings) : root, writes };
  }

  const allow: DecisionEvent = {
    ...event,
    decision: 'allow',
    outcome: 'success',
    action: 'authz_success',
    reason: 'quotes " and \\ backslashes, ünïcode',
    request: { ...event.request, ip: '203.0.113.7' },
  };

  it("respects the logger's level, and leaves to pino what only pino can do (redaction, formatters, mixins)", () => {
    const quiet = capture({ level: 'warn' });
    const sink = new PinoAuditSink(quiet.logger);
    sink.write(allow);
    sink.write(event);
    expect(quiet.writes.map((w) => (JSON.parse(w) as { level: number }).level)).toEqual([40]);

    const redacted = capture({ redact: ['user.id'] });
    new PinoAuditSink(redacted.logger).write(event);
    expect(JSON.parse(redacted.writes[0] ?? '{}')).toMatchObject({ user: { id: '[Redacted]' } });

    const formatted = capture({ formatters: { log: (o) => ({ ...o, tenant: 't1' }) } });
    new PinoAuditSink(formatted.logger).write(event);
    expect(JSON.parse(formatted.writes[0] ?? '{}')).toMatchObject({ tenant: 't1' });

    const mixed = capture({ mixin: () => ({ region: 'eu' }) });
    new PinoAuditSink(mixed.logger).write(event);
    expect(JSON.parse(mixed.writes[0] ?? '{}')).toMatchObject({ region: 'eu' });
  });
});
