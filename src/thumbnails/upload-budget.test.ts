import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { clientKey } from './upload-budget.js';

describe('clientKey', () => {
  it('keeps IPv4 as it is and maps IPv4-mapped IPv6 to IPv4', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::FFFF:10.0.0.1')).toBe('10.0.0.1');
  });

  it('gives one key to a whole IPv6 /64 (a host can pick any address in it)', () => {
    const key = clientKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const ip of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:99', '2001:db8:1:2::abcd%eth0', '2001:db8:1:2:0:0:1.2.3.4']) {
      expect(clientKey(ip), ip).toBe(key);
    }
    expect(clientKey('2001:db8:1:3::1')).not.toBe(key);
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('never throws on odd input', () => {
    for (const ip of [undefined, '', 'garbage', '::', ':::1', 'unix:/tmp/x']) expect(typeof clientKey(ip)).toBe('string');
  });
});

describe('upload budget configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ SELER_DATA_DIR: '/tmp/seler-config-test', ...env }, '/tmp');

  it('defaults to 300 uploads a minute and 2048 MB an hour per client, and a 60 s idle timeout', () => {
    expect(load({}).uploads).toEqual({ rate: { count: 300, periodMs: 60_000 }, bytesPerHour: 2048 * 1024 * 1024, idleTimeoutMs: 60_000 });
  });

  it('reads rates per second, minute, hour and day, and "off"', () => {
    expect(load({ SELER_UPLOAD_RATE: '30/m' }).uploads.rate).toEqual({ count: 30, periodMs: 60_000 });
    expect(load({ SELER_UPLOAD_RATE: ' 5 / s ' }).uploads.rate).toEqual({ count: 5, periodMs: 1000 });
    expect(load({ SELER_UPLOAD_RATE: '1000/H' }).uploads.rate).toEqual({ count: 1000, periodMs: 3_600_000 });
    expect(load({ SELER_UPLOAD_RATE: '9/d' }).uploads.rate).toEqual({ count: 9, periodMs: 86_400_000 });
    expect(load({ SELER_UPLOAD_RATE: 'off' }).uploads.rate).toBeUndefined();
    expect(load({ SELER_UPLOAD_RATE: '0' }).uploads.rate).toBeUndefined();
    expect(load({ SELER_UPLOAD_BUDGET_MB: '0' }).uploads.bytesPerHour).toBeUndefined();
    expect(load({ SELER_UPLOAD_BUDGET_MB: '0.5' }).uploads.bytesPerHour).toBe(512 * 1024);
  });

  it.each([
    ['SELER_UPLOAD_RATE', '30'],
    ['SELER_UPLOAD_RATE', '30/minute'],
    ['SELER_UPLOAD_RATE', '-1/m'],
    ['SELER_UPLOAD_BUDGET_MB', '-5'],
    ['SELER_UPLOAD_BUDGET_MB', 'lots'],
    ['SELER_UPLOAD_IDLE_TIMEOUT', '0'],
  ])('refuses %s=%j naming the variable', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(name);
  });
});
