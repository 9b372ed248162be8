import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A plain HTTP resource server on 127.0.0.1 that records the requests it receives. */
export interface RecordingResource {
  url: string;
  seen: IncomingMessage[];
  server: Server;
}

/** Starts a resource server answering each request with the status `respond` returns. */
export async function startResource(
  respond: (request: IncomingMessage, index: number) => number,
  headers: Record<string, string> = {},
): Promise<RecordingResource> {
  const seen: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    seen.push(request);
    const status = respond(request, seen.length - 1);
    request.resume();
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

/** Stops a server, closing its keep-alive connections. */
export function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
