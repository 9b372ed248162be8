import { connect as connectTcp } from 'node:net';

/** The NATS server of the test run (JetStream on, but Nest's transport is core NATS). */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** The RabbitMQ broker of the test run. */
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Whether something accepts TCP connections at the URL's host and port (within a second). */
function listening(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: hostname, port: Number(port || defaultPort), timeout: 1000 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a broker runs. Suites run with `describe.runIf(...)`: skipped with a notice when it
 * does not, except with `CI=true`, where importing this file fails the run.
 */
async function required(name: string, url: string, port: number): Promise<boolean> {
  const up = await listening(url, port);
  if (!up && process.env.CI === 'true')
    throw new Error(`${name} is unreachable at ${url} (mandatory when CI=true)`);
  if (!up) console.warn(`\n[${name}] SKIPPING ${name} suites: nothing at ${url}\n`);
  return up;
}

export const natsReady = await required('NATS', NATS_URL, 4222);
export const rabbitReady = await required('RabbitMQ', AMQP_URL, 5672);
