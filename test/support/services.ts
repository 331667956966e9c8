/**
 * Settings the service tests share. Tests that drive the services with an injected clock keep the lease heartbeat
 * (real time) out of the way, so the writes a crash test counts are exactly the worker's own.
 */
export const NO_HEARTBEAT = 24 * 3600 * 1000;
