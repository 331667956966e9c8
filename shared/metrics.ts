/**
 * Metrics: CloudWatch metrics through Powertools (`@aws-lambda-powertools/metrics`), written as Embedded Metric
 * Format (EMF) lines on stdout, which CloudWatch Logs turns into metrics: no API call, nothing added to a request's
 * latency but the line. On when QFDATA_METRICS=emf (serverless.yml sets it for the cloud stages, in the namespace
 * QFDATA_METRICS_NAMESPACE); every function here is a no-op otherwise (locally and in tests, where stdout is the
 * log).
 *
 * Each call writes its line at once, so a function that ends (or dies) loses nothing and no dimension of one
 * invocation reaches the next. Every dimension value is bounded by the code (operation names come from the
 * registry, outcomes and codes from `shared/errors.ts`, reasons from {@link TaskFailureReason}), never taken from a
 * request as is: each distinct combination is a billed CloudWatch metric.
 *
 * | metric | unit | dimensions | written by |
 * |---|---|---|---|
 * | `Requests`, `RequestLatency` | Count, Milliseconds | `Operation` (`v2.DescribeDatasets`, `v1.create`, `v2.refused`), `Outcome` (`ok` or the error code) | the HTTP chain, once per request |
 * | `AuthFailures` | Count | `Code` (`SignatureDoesNotMatch`, `AccessDenied`, …) | the HTTP chain, for IAM-layer refusals |
 * | `ImportBytes`, `ImportSamples`, `ImportDuration` | Bytes, Count, Milliseconds | `Outcome` (`Finished`, `Failed`) | the import worker, when a task ends |
 * | `ExportBytes`, `ExportSamples`, `ExportDuration` | Bytes, Count, Milliseconds | `Outcome` | the export runner, when a task ends |
 * | `TaskFailures` | Count | `Task` (`import`, `export`), `Reason` | the import worker and the export runner, when a task fails |
 *
 * Every line also carries the dimension `service` = `qfdata`.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { config } from './config.js';

/** Why a task failed, as a metric dimension: a short fixed word, never the failure's message. */
export type TaskFailureReason =
  /** The version was deleted (or replaced) before the task ran. */
  | 'VersionGone'
  /** Its runners kept dying (timeouts, crashes) and the task gave up. */
  | 'Interrupted'
  /** A source file could not be read (imports). */
  | 'Unreadable'
  /** An error retrying cannot help (a refused bucket, a bad key): failed at once. */
  | 'Refused'
  /** The same error came back on every retry. */
  | 'Repeated';

export interface TaskEnd {
  outcome: 'Finished' | 'Failed';
  bytes: number;
  samples: number;
  /** From the task's creation to its end. */
  durationMs: number;
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

let emitter: Metrics | null | undefined;

/** The Powertools emitter, made at first use; `null` when metrics are off (or the configuration is invalid). */
function metricsOn(): Metrics | null {
  if (emitter === undefined) {
    let settings;
    try {
      settings = config();
    } catch {
      settings = undefined;
    }
    emitter = settings?.QFDATA_METRICS === 'emf' ? new Metrics({ namespace: settings.QFDATA_METRICS_NAMESPACE, serviceName: 'qfdata' }) : null;
  }
  return emitter;
}

/** One EMF line: these values under these dimensions. */
function emit(dimensions: Record<string, string>, values: [name: string, unit: Unit, value: number][]): void {
  const m = metricsOn();
  if (m === null) return;
  // Synchronous from the first add to the publish, so no other invocation's values can slip in between.
  m.addDimensions(dimensions);
  for (const [name, unit, value] of values) m.addMetric(name, unit, value);
  m.publishStoredMetrics();
}

/** A dimension value as CloudWatch takes it: printable ASCII, at most 250 characters, never empty. */
function dimension(value: string): string {
  return value.replace(/[^\x21-\x7e]/g, '?').slice(0, 250) || '(none)';
}

export const metrics = {
  /** One HTTP request: its operation, its outcome (`ok` or the error code) and how long the chain took. */
  request(operation: string, outcome: string, durationMs: number): void {
    emit({ Operation: dimension(operation), Outcome: dimension(outcome) }, [
      ['Requests', MetricUnit.Count, 1],
      ['RequestLatency', MetricUnit.Milliseconds, durationMs],
    ]);
  },

  /** A request the IAM layer refused (bad or expired signature, unknown or disabled key, policy). */
  authFailure(code: string): void {
    emit({ Code: dimension(code) }, [['AuthFailures', MetricUnit.Count, 1]]);
  },

  /** An import task ended: what it stored and how long it took from creation. */
  importEnded(end: TaskEnd): void {
    emit({ Outcome: end.outcome }, [
      ['ImportBytes', MetricUnit.Bytes, end.bytes],
      ['ImportSamples', MetricUnit.Count, end.samples],
      ['ImportDuration', MetricUnit.Milliseconds, end.durationMs],
    ]);
  },

  /** An export task ended: the archive's size, the samples in it, and how long it took from creation. */
  exportEnded(end: TaskEnd): void {
    emit({ Outcome: end.outcome }, [
      ['ExportBytes', MetricUnit.Bytes, end.bytes],
      ['ExportSamples', MetricUnit.Count, end.samples],
      ['ExportDuration', MetricUnit.Milliseconds, end.durationMs],
    ]);
  },

  /** A task failed for good. */
  taskFailed(task: 'import' | 'export', reason: TaskFailureReason): void {
    emit({ Task: task, Reason: reason }, [['TaskFailures', MetricUnit.Count, 1]]);
  },
};
