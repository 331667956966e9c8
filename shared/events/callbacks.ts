/**
 * Step Functions callbacks: a workflow that starts an import or an export with a task token (`.waitForTaskToken`)
 * is answered when the task ends, `SendTaskSuccess` (with the end event's detail as output) or `SendTaskFailure`
 * (`error` ImportFailed / ExportFailed, `cause` the failure reason). The answer is recorded in the outbox with the
 * task's end (`./catalog.ts` `callbackOf`), so it is sent at least once even if the worker dies right after.
 *
 * - {@link StepFunctionsCallbacks}: the Step Functions API in the cloud, through the light AWS JSON client, loaded at
 *   the first call. A token Step Functions no longer knows (the workflow timed out or was stopped) is logged and
 *   dropped: retrying cannot help.
 * - {@link LocalCallbackLog}: the local twin has no Step Functions: each call is appended to the event log (source
 *   `qfdata.local`, detail-type `Step Functions Task Callback`), where `qfdata events tail` and tests see it.
 */
import { randomUUID } from 'node:crypto';
import { lazy } from '../lazy.js';
import { log } from '../log.js';
import type { OutboxEvent } from '../model.js';
import { CALLBACK } from './catalog.js';
import { appendLines, localEventLogFile } from './publisher.js';

export interface TaskCallbacks {
  /** Sends the calls (at least once); throws if one could not be sent and may be sent later. */
  send(calls: readonly OutboxEvent[]): Promise<void>;
}

/** Step Functions' answers for a token it will never accept again. */
const GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

export class StepFunctionsCallbacks implements TaskCallbacks {
  readonly #client: () => Promise<{ call: (operation: string, input: unknown) => Promise<unknown> }>;

  constructor(options: { region: string; endpoint?: string }) {
    this.#client = lazy(async () => {
      const { AwsJsonClient } = await import('../store/aws-json.js');
      return new AwsJsonClient({ service: 'states', targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0', region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    });
  }

  async send(calls: readonly OutboxEvent[]): Promise<void> {
    if (calls.length === 0) return;
    const client = await this.#client();
    for (const call of calls) {
      const d = call.detail as { action: string; taskToken: string; output?: unknown; error?: string; cause?: string };
      const input = d.action === 'SendTaskSuccess' ? { taskToken: d.taskToken, output: JSON.stringify(d.output) } : { taskToken: d.taskToken, error: d.error, cause: d.cause };
      try {
        await client.call(d.action, input);
      } catch (error) {
        if (!GONE.has((error as Error).name)) throw error;
        log.warn('Step Functions no longer waits for this task; its answer is dropped', { account: call.account, action: d.action, reason: (error as Error).name });
      }
    }
  }
}

export class LocalCallbackLog implements TaskCallbacks {
  constructor(private readonly options: { file: string; region: string }) {}

  async send(calls: readonly OutboxEvent[]): Promise<void> {
    if (calls.length === 0) return;
    const lines = calls.map((c) =>
      JSON.stringify({ version: '0', id: randomUUID(), 'detail-type': CALLBACK, source: 'qfdata.local', account: '000000000000', time: c.time, region: this.options.region, resources: [], detail: { ...c.detail, account: c.account } }),
    );
    await appendLines(this.options.file, `${lines.join('\n')}\n`);
  }
}

/** The callbacks a configuration names: recorded in the event log locally, Step Functions in the cloud. */
export function createTaskCallbacks(c: { offline: boolean; dataDir: string; region: string }): TaskCallbacks {
  return c.offline ? new LocalCallbackLog({ file: localEventLogFile(c.dataDir), region: c.region }) : new StepFunctionsCallbacks({ region: c.region });
}
