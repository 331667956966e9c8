/**
 * Ports for tests that stop a stack and start another on the same ports: pick free ones, and wait (with a
 * deadline) until a stopped stack's ports can be bound again instead of racing its shutdown.
 *
 * A stack that must come back on the same ports takes them below the kernel's ephemeral range: a port from that
 * range (what `listen(0)` hands out) may be taken, while the stack is down, as the local port of any outgoing
 * connection of the tests running beside it (seen as an EADDRINUSE at the restart).
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, type StackOptions } from '../../scripts/local.js';

const POLL_MS = 100;

/** Where the ports of restartable stacks are picked: from 10000 up to the ephemeral range's start (Linux's, else 32768). */
function fixedPortRange(): [number, number] {
  let start = 32768;
  try {
    start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || start;
  } catch {
    // not Linux: the IANA dynamic range starts at 49152, the BSDs' and Windows' default
    start = 49152;
  }
  return [10_000, Math.max(start, 11_000)];
}

/** `count` distinct ports, below the ephemeral range, that can be bound now. */
async function fixedPorts(count: number): Promise<number[]> {
  const [low, high] = fixedPortRange();
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 1000) throw new Error(`no ${count} free ports between ${low} and ${high}`);
    const port = randomInt(low, high);
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  return [...ports];
}

/** `count` distinct free ports on 127.0.0.1 (never a fixed port such as 8866). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Every port a stack takes, as `startStack` options (`npm start` takes them from QFDATA_PORT and the others). */
export type StackPorts = Required<Pick<StackOptions, 'port' | 'lambdaPort' | 'dynamoPort' | 'downloadPort' | 'offlinePort'>>;

/** Distinct free ports for every port of a stack, so that it can be stopped and started again on the same ones. */
export async function stackPorts(): Promise<StackPorts> {
  const [port, lambdaPort, dynamoPort, downloadPort, offlinePort] = (await fixedPorts(5)) as [number, number, number, number, number];
  return { port, lambdaPort, dynamoPort, downloadPort, offlinePort };
}

/** True when a server can listen on `port` right now (it is closed again at once). */
export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Resolves once every port can be bound; rejects naming the ports still taken after `timeoutMs`. */
export async function waitForPortsFree(ports: number[], { timeoutMs = 30_000, host = '127.0.0.1' } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const taken: number[] = [];
    for (const port of ports) if (!(await canBind(port, host))) taken.push(port);
    if (taken.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ports ${taken.join(', ')} are still in use after ${timeoutMs} ms`);
    await delay(POLL_MS);
  }
}
