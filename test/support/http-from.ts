import { request } from 'node:http';

/**
 * A GET from a chosen loopback source address (127.0.0.2, 127.0.0.3, …), so one test can act as
 * several clients without any proxy header.
 */
export function getFrom(
  url: string,
  localAddress: string,
  token?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        localAddress,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
