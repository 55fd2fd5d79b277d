/**
 * Who this process is, and whether another process (by pid and start identity) is still alive.
 * On Linux a pid's start identity is `<boot id>:<start ticks>` from /proc, so a pid reused by a
 * different process, or a pid from before a reboot, is recognised as not the same process.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

let bootIdCache: string | null | undefined;
function bootId(): string | null {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache;
}

/** Start identity of `pid`, or null if it is not running (or the platform cannot tell). */
export function processStartIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return null; // zombie or dead: not running
    const startTicks = rest[19];
    return `${bootId() ?? 'unknown'}:${startTicks}`;
  } catch {
    return null;
  }
}

export type Liveness = 'alive' | 'dead' | 'reused' | 'unknown';

/**
 * Is the process `pid` with start identity `startTime` (as recorded when it took a lease) alive?
 * `reused` means a live process has that pid but started at another time.
 */
export function processLiveness(pid: number, startTime: string | null): Liveness {
  const now = processStartIdentity(pid);
  if (now !== null) {
    if (startTime === null) return 'alive';
    return now === startTime ? 'alive' : 'reused';
  }
  try {
    process.kill(pid, 0);
    return startTime === null ? 'alive' : 'unknown';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'dead';
    if (code === 'EPERM') return 'alive';
    return 'unknown';
  }
}

/** Identity of the current process, as recorded in events and leases. */
export interface ProcessIdentity {
  readonly host: string;
  readonly pid: number;
  readonly writerId: string;
  readonly startTime: string | null;
}

export function currentProcessIdentity(writerId: string = randomUUID()): ProcessIdentity {
  return { host: hostname(), pid: process.pid, writerId, startTime: processStartIdentity(process.pid) };
}
