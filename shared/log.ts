/**
 * Structured logging through the Powertools logger (`@aws-lambda-powertools/logger`): one JSON object per line on
 * stdout, the same lines in the cloud (CloudWatch) and locally (the terminal, under serverless-offline).
 *
 * A line holds `level`, `time`, `service` and `message`, then, inside an invocation, the Lambda context
 * (`cold_start`, `function_name`, `function_version`, `function_request_id`), the `correlation_id` (API Gateway's
 * request id, which the access log carries too), `xray_trace_id` when Lambda gives one, `sampling_rate` when debug
 * sampling is on (QFDATA_LOG_DEBUG_SAMPLE_RATE: that share of invocations logs at debug level), and last the
 * caller's fields.
 *
 * Nothing here knows about secrets; callers never pass one (the signer's errors carry none, and request logs hold
 * ids, account, operation, outcome and duration only). The logger is made at its first use, so the configuration it
 * reads is the one in force then, as for every other part.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';
import { config, type Config } from './config.js';

export type LogFields = Record<string, unknown>;

/** qfdata's line: lower-case `level` and an ISO `time` first, Powertools' Lambda keys next, the fields last. */
class QfdataLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, fields: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        time: attributes.timestamp.toISOString(),
        service: attributes.serviceName,
        message: attributes.message,
        cold_start: lambda?.coldStart,
        function_name: lambda?.functionName,
        function_request_id: lambda?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
        sampling_rate: attributes.sampleRateValue || undefined,
      },
    }).addAttributes(fields);
  }
}

/**
 * The configured level and sampling; `info` and none when the configuration itself is invalid, so that logging the
 * failure a bad variable causes never throws a second error (the configuration's own error names the variable).
 */
function settings(): Pick<Config, 'LOG_LEVEL' | 'QFDATA_LOG_DEBUG_SAMPLE_RATE'> {
  try {
    return config();
  } catch {
    return { LOG_LEVEL: 'info', QFDATA_LOG_DEBUG_SAMPLE_RATE: 0 };
  }
}

/**
 * Powertools' logger, writing every level to stdout (Powertools sends warn and error to stderr): one stream, so
 * the local terminal, `npm start`'s readers and tests see every line in order, as CloudWatch does.
 */
class StdoutLogger extends Logger {
  protected override printLog(_logLevel: number, item: LogItem): void {
    item.prepareForPrint();
    process.stdout.write(`${JSON.stringify(item.getAttributes(), this.getJsonReplacer())}\n`);
  }
}

let instance: Logger | undefined;

function logger(): Logger {
  if (instance === undefined) {
    const { LOG_LEVEL, QFDATA_LOG_DEBUG_SAMPLE_RATE } = settings();
    instance = new StdoutLogger({
      serviceName: 'qfdata',
      logLevel: LOG_LEVEL === 'silent' ? 'SILENT' : LOG_LEVEL,
      sampleRateValue: QFDATA_LOG_DEBUG_SAMPLE_RATE,
      logFormatter: new QfdataLogFormatter(),
    });
  }
  return instance;
}

/**
 * Starts an invocation's log context: a fresh debug-sampling decision, the Lambda context (cold start, function
 * name, version and request id) and the correlation id, plus any `keys` every line of the invocation should carry.
 * They last until {@link endInvocation}.
 */
export function startInvocation(context: Context | undefined, keys: LogFields & { correlationId?: string } = {}): void {
  const l = logger();
  l.refreshSampleRateCalculation();
  if (context?.awsRequestId) l.addContext(context);
  const { correlationId, ...rest } = keys;
  l.appendKeys({ ...(context?.functionVersion ? { function_version: context.functionVersion } : {}), ...rest });
  if (correlationId) l.setCorrelationId(correlationId);
}

/** Ends an invocation's log context: the keys {@link startInvocation} added go. */
export function endInvocation(): void {
  logger().resetKeys();
}

/** The cause of an unexpected error, as loggable fields (name, message, stack), logged once where it is mapped. */
export function describeCause(error: unknown): LogFields {
  if (error instanceof Error) {
    return { errorName: error.name, errorMessage: error.message, stack: error.stack };
  }
  return { errorValue: String(error) };
}

export const log = {
  debug: (message: string, fields: LogFields = {}) => logger().debug(message, fields),
  info: (message: string, fields: LogFields = {}) => logger().info(message, fields),
  warn: (message: string, fields: LogFields = {}) => logger().warn(message, fields),
  error: (message: string, fields: LogFields = {}) => logger().error(message, fields),
};
