/**
 * Structured logging: one JSON object per line on stdout (CloudWatch in the cloud, the terminal locally).
 * Nothing here knows about secrets; callers never pass one (the signer's errors carry none, and request logs hold
 * ids, account, operation, outcome and duration only).
 */
import { config } from './config.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

/**
 * The configured level; `info` when the configuration itself is invalid, so that logging the failure that a bad
 * variable causes never throws a second error (the configuration's own error names the variable).
 */
function threshold(): Level | 'silent' {
  try {
    return config().LOG_LEVEL;
  } catch {
    return 'info';
  }
}

function write(level: Level, message: string, fields: LogFields): void {
  if (RANK[level] < RANK[threshold()]) return;
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), service: 'qfdata', message, ...fields })}\n`);
}

/** The cause of an unexpected error, as loggable fields (name, message, stack), logged once where it is mapped. */
export function describeCause(error: unknown): LogFields {
  if (error instanceof Error) {
    return { errorName: error.name, errorMessage: error.message, stack: error.stack };
  }
  return { errorValue: String(error) };
}

export const log = {
  debug: (message: string, fields: LogFields = {}) => write('debug', message, fields),
  info: (message: string, fields: LogFields = {}) => write('info', message, fields),
  warn: (message: string, fields: LogFields = {}) => write('warn', message, fields),
  error: (message: string, fields: LogFields = {}) => write('error', message, fields),
};
