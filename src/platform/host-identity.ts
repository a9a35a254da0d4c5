// Which machine this process runs on, for claims other hosts must respect: the private Redis's owner
// file and the database identity roles announce in Redis. The host name can be set (SELER_HOSTNAME)
// where the system's is not meaningful (containers with random names, network namespaces sharing one).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface HostIdentity {
  hostname: string;
  /** Changes at every boot (Linux: /proc/sys/kernel/random/boot_id); empty where unknown. */
  bootId: string;
}

let configuredHostname: string | undefined;

/** Set once from the configuration (SELER_HOSTNAME). */
export function setHostname(name: string | undefined): void {
  configuredHostname = name || undefined;
}

/** `name` (a configuration's SELER_HOSTNAME) wins over the one set with setHostname, which wins over the system's. */
export function hostIdentity(name?: string): HostIdentity {
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    /* not Linux */
  }
  return { hostname: name || configuredHostname || hostname(), bootId };
}
