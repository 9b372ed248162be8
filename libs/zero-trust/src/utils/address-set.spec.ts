import { BlockList } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { AddressSet } from './address-set.js';

describe('AddressSet', () => {
  it('answers like its BlockList, asking it once per address, within a bounded memo', () => {
    const list = new BlockList();
    list.addSubnet('10.0.0.0', 8, 'ipv4');
    list.addAddress('::1', 'ipv6');
    const check = vi.spyOn(list, 'check');
    const set = new AddressSet(list);
    expect(set.has('10.1.2.3')).toBe(true);
    expect(set.has('10.1.2.3')).toBe(true);
    expect(set.has('::1')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('not an address')).toBe(false);
    expect(check).toHaveBeenCalledTimes(3);
    for (let i = 0; i < 5000; i++) expect(set.has(`10.0.${i >> 8}.${i & 255}`)).toBe(true);
    expect((set as unknown as { memo: Map<string, boolean> }).memo.size).toBeLessThanOrEqual(4096);
    expect(set.has('11.0.0.1')).toBe(false);
  });
});
