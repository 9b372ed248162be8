import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DEMO_WORKLOADS, loadOrCreatePki, readDemoPki } from './pki.js';

describe('development PKI', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('creates a CA and one SPIFFE certificate per workload, then reuses them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'zt-pki-'));
    dirs.push(dataDir);
    const pki = await loadOrCreatePki(dataDir);
    expect(pki.generated).toBe(true);
    const ca = new X509Certificate(pki.caCert);
    expect(ca.ca).toBe(true);

    for (const workload of DEMO_WORKLOADS) {
      const credentials = pki.workloads[workload];
      const leaf = new X509Certificate(credentials.cert);
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkPrivateKey(createPrivateKey(credentials.key))).toBe(true);
      const uris = (leaf.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:'));
      expect(uris).toEqual([`URI:spiffe://demo.local/${workload}`]);
      expect((await stat(credentials.keyPath)).mode & 0o077).toBe(0);
    }

    const again = await loadOrCreatePki(dataDir);
    expect(again.generated).toBe(false);
    expect(again.caCert).toBe(pki.caCert);
    expect((await readDemoPki(dataDir)).workloads['billing-worker'].cert).toBe(
      pki.workloads['billing-worker'].cert,
    );
  });

  it('refuses to read a PKI that was never created', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'zt-pki-'));
    dirs.push(dataDir);
    await expect(readDemoPki(dataDir)).rejects.toThrow(/start the identity provider first/);
  });
});
