/**
 * How background work is kicked: an import task is stored first, then a message names it. In the cloud the
 * message goes to the SQS queue that triggers the import worker (with a dead-letter queue behind it); locally
 * (serverless-offline has no SQS) the worker is invoked at once through serverless-offline's Lambda Invoke API
 * with `InvocationType: Event`, in the same SQS-shaped event. A lost kick is not fatal: the scheduled sweep
 * restarts every open task whose lease has expired, a never-started task included.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { lazy } from '../lazy.js';

/** The body of a kick message. */
export interface TaskRef {
  account: string;
  taskId: string;
}

export interface TaskQueue {
  kickImport(ref: TaskRef): Promise<void>;
  /**
   * Asks the scheduled runner to run now (new exports). Locally it is invoked at once; in the cloud this is a
   * no-op and the schedule (every minute) runs it.
   */
  kickRunner(): Promise<void>;
}

/**
 * Sends to an SQS queue, through SQS's JSON protocol and the light client the metadata store uses
 * (`shared/store/aws-json.ts`), made on first use; the queue URL's host is the endpoint, as the AWS SDK does.
 */
export class SqsTaskQueue implements TaskQueue {
  readonly #client: () => Promise<{ send: (message: TaskRef) => Promise<void> }>;

  constructor(options: { queueUrl: string; region: string }) {
    this.#client = lazy(async () => {
      const { AwsJsonClient } = await import('../store/aws-json.js');
      const sqs = new AwsJsonClient({ service: 'sqs', targetPrefix: 'AmazonSQS', jsonVersion: '1.0', region: options.region, endpoint: new URL(options.queueUrl).origin });
      return {
        send: async (message: TaskRef) => {
          await sqs.call('SendMessage', { QueueUrl: options.queueUrl, MessageBody: JSON.stringify(message) });
        },
      };
    });
  }

  async kickImport(ref: TaskRef): Promise<void> {
    await (await this.#client()).send(ref);
  }

  async kickRunner(): Promise<void> {}
}

/** Invokes the worker function through a Lambda Invoke endpoint (serverless-offline's), asynchronously. */
export class InvokeTaskQueue implements TaskQueue {
  constructor(private readonly options: { endpoint: string; functionName: string; runnerFunctionName: string }) {}

  async kickImport(ref: TaskRef): Promise<void> {
    await this.#invoke(this.options.functionName, { Records: [{ messageId: randomUUID(), body: JSON.stringify(ref), eventSource: 'qfdata:local' }] });
  }

  async kickRunner(): Promise<void> {
    await this.#invoke(this.options.runnerFunctionName, { source: 'qfdata.kick', 'detail-type': 'Scheduled Event', time: new Date().toISOString() });
  }

  async #invoke(functionName: string, event: unknown): Promise<void> {
    const url = `${this.options.endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`invoking ${functionName} answered ${response.status}`);
    await response.arrayBuffer();
  }
}

/** Drops kicks (tests that drive the worker by hand); the sweep still finds the tasks. */
export class NoTaskQueue implements TaskQueue {
  async kickImport(): Promise<void> {}
  async kickRunner(): Promise<void> {}
}

/** The queue a configuration names: SQS in the cloud, serverless-offline's Invoke API locally, none otherwise. */
export function createTaskQueue(c: Pick<Config, 'QFDATA_IMPORT_QUEUE_URL' | 'QFDATA_LOCAL_LAMBDA_ENDPOINT' | 'QFDATA_IMPORT_WORKER_FUNCTION' | 'QFDATA_SCHEDULER_FUNCTION' | 'AWS_REGION'>): TaskQueue {
  if (c.QFDATA_IMPORT_QUEUE_URL) return new SqsTaskQueue({ queueUrl: c.QFDATA_IMPORT_QUEUE_URL, region: c.AWS_REGION });
  if (c.QFDATA_LOCAL_LAMBDA_ENDPOINT) {
    return new InvokeTaskQueue({ endpoint: c.QFDATA_LOCAL_LAMBDA_ENDPOINT, functionName: c.QFDATA_IMPORT_WORKER_FUNCTION, runnerFunctionName: c.QFDATA_SCHEDULER_FUNCTION });
  }
  return new NoTaskQueue();
}
