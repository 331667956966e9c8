/**
 * The DynamoDB document client of the metadata store: `send(new GetCommand({ TableName, Key }))` with plain
 * JavaScript values in and out, as `@aws-sdk/lib-dynamodb`'s `DynamoDBDocumentClient` takes and answers them
 * (its input and output types are reused, and items are converted by the same `@aws-sdk/util-dynamodb`
 * marshaller), over the light JSON-protocol client of `./aws-json.ts` instead of the SDK's DynamoDB client, which
 * cost every function ~34 ms of cold start and ~19 ms on its first call.
 *
 * Errors keep the SDK's names: a failed condition throws a {@link ConditionalCheckFailedException}, any other
 * service error an {@link AwsServiceError} named after DynamoDB's error code.
 */
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type * as Sdk from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall, type marshallOptions, type unmarshallOptions } from '@aws-sdk/util-dynamodb';
import { AwsJsonClient, AwsServiceError, type CredentialsOption } from './aws-json.js';

export { AwsServiceError } from './aws-json.js';
export type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** DynamoDB's answer when a `ConditionExpression` does not hold. */
export class ConditionalCheckFailedException extends AwsServiceError {}

type Operation = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan' | 'BatchWriteItem' | 'BatchGetItem';

/** A command: the DynamoDB operation and its input (plain values); `Output` types what `send` answers. */
export abstract class DocumentCommand<Input extends object, Output extends object> {
  abstract readonly operation: Operation;
  /** Carries the output type only (never set). */
  declare readonly $output?: Output;
  constructor(readonly input: Input) {}
}

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = 'GetItem';
}
export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = 'PutItem';
}
export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = 'UpdateItem';
}
export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = 'DeleteItem';
}
export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = 'Query';
}
export class ScanCommand extends DocumentCommand<ScanCommandInput, ScanCommandOutput> {
  readonly operation = 'Scan';
}
export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly operation = 'BatchWriteItem';
}
export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = 'BatchGetItem';
}

/**
 * Commands of `@aws-sdk/lib-dynamodb` (same names, same inputs) are accepted too, so code written against the SDK's
 * document client keeps working: they carry no `operation`, so their class name says which one they are.
 */
const SDK_COMMANDS: Record<string, Operation> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchWriteCommand: 'BatchWriteItem',
  BatchGetCommand: 'BatchGetItem',
};

type SdkCommand = Sdk.GetCommand | Sdk.PutCommand | Sdk.UpdateCommand | Sdk.DeleteCommand | Sdk.QueryCommand | Sdk.ScanCommand | Sdk.BatchWriteCommand | Sdk.BatchGetCommand;
type SdkOutput<C> = C extends Sdk.GetCommand
  ? GetCommandOutput
  : C extends Sdk.PutCommand
    ? PutCommandOutput
    : C extends Sdk.UpdateCommand
      ? UpdateCommandOutput
      : C extends Sdk.DeleteCommand
        ? DeleteCommandOutput
        : C extends Sdk.QueryCommand
          ? QueryCommandOutput
          : C extends Sdk.ScanCommand
            ? ScanCommandOutput
            : C extends Sdk.BatchWriteCommand
              ? BatchWriteCommandOutput
              : BatchGetCommandOutput;

export interface DocumentClientOptions {
  region: string;
  /** dynalite's endpoint locally and in tests; unset in the cloud. */
  endpoint?: string;
  credentials?: CredentialsOption;
  maxAttempts?: number;
  marshallOptions?: marshallOptions;
  unmarshallOptions?: unmarshallOptions;
}

type Item = Record<string, unknown>;
type Wire = Record<string, unknown>;

export class DocumentClient {
  readonly #client: AwsJsonClient;
  readonly #marshall: marshallOptions;
  readonly #unmarshall: unmarshallOptions;

  constructor(options: DocumentClientOptions) {
    this.#client = new AwsJsonClient({
      service: 'dynamodb',
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      parse: parseWithBlobs,
    });
    this.#marshall = { removeUndefinedValues: true, ...options.marshallOptions };
    this.#unmarshall = { ...options.unmarshallOptions };
  }

  send<I extends object, O extends object>(command: DocumentCommand<I, O>): Promise<O>;
  /** A command of `@aws-sdk/lib-dynamodb`. */
  send<C extends SdkCommand>(command: C): Promise<SdkOutput<C>>;
  async send(command: { input: object; operation?: Operation }): Promise<object> {
    const operation = command.operation ?? SDK_COMMANDS[command.constructor.name];
    if (!operation) throw new TypeError(`not a DynamoDB document command: ${command.constructor.name}`);
    try {
      const output = await this.#client.call<Wire>(operation, this.#request(operation, command.input as Wire));
      return this.#response(operation, output);
    } catch (error) {
      if (error instanceof AwsServiceError && error.name === 'ConditionalCheckFailedException') {
        const { $fault, $metadata, name, message, stack, ...fields } = error;
        void name;
        void stack;
        throw new ConditionalCheckFailedException(
          'ConditionalCheckFailedException',
          message,
          $fault,
          $metadata,
          fields.Item ? { ...fields, Item: this.#fromItem(fields.Item as Wire) } : fields,
        );
      }
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.#client.destroy();
  }

  #toItem(item: Item | undefined): Wire | undefined {
    return item === undefined ? undefined : (marshall(item, this.#marshall) as Wire);
  }

  #fromItem(item: Wire | undefined): Item | undefined {
    return item === undefined ? undefined : unmarshall(item as Parameters<typeof unmarshall>[0], this.#unmarshall);
  }

  #request(operation: Operation, input: Wire): Wire {
    const out: Wire = { ...input };
    for (const field of ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const) {
      if (input[field] !== undefined) out[field] = this.#toItem(input[field] as Item);
    }
    if (operation === 'BatchWriteItem') {
      out.RequestItems = mapValues(input.RequestItems as Record<string, Wire[]>, (requests) =>
        requests.map((r) =>
          r.PutRequest
            ? { PutRequest: { Item: this.#toItem((r.PutRequest as Wire).Item as Item) } }
            : { DeleteRequest: { Key: this.#toItem((r.DeleteRequest as Wire).Key as Item) } },
        ),
      );
    }
    if (operation === 'BatchGetItem') {
      out.RequestItems = mapValues(input.RequestItems as Record<string, Wire>, (request) => ({
        ...request,
        Keys: (request.Keys as Item[]).map((key) => this.#toItem(key)),
      }));
    }
    return out;
  }

  #response(operation: Operation, output: Wire): object {
    const out: Wire = { ...output };
    for (const field of ['Item', 'Attributes', 'LastEvaluatedKey'] as const) {
      if (output[field] !== undefined) out[field] = this.#fromItem(output[field] as Wire);
    }
    if (output.Items !== undefined) out.Items = (output.Items as Wire[]).map((item) => this.#fromItem(item));
    if (operation === 'BatchWriteItem' && output.UnprocessedItems) {
      out.UnprocessedItems = mapValues(output.UnprocessedItems as Record<string, Wire[]>, (requests) =>
        requests.map((r) =>
          r.PutRequest
            ? { PutRequest: { Item: this.#fromItem((r.PutRequest as Wire).Item as Wire) } }
            : { DeleteRequest: { Key: this.#fromItem((r.DeleteRequest as Wire).Key as Wire) } },
        ),
      );
    }
    if (operation === 'BatchGetItem') {
      if (output.Responses) out.Responses = mapValues(output.Responses as Record<string, Wire[]>, (items) => items.map((item) => this.#fromItem(item)));
      if (output.UnprocessedKeys) {
        out.UnprocessedKeys = mapValues(output.UnprocessedKeys as Record<string, Wire>, (request) => ({
          ...request,
          Keys: (request.Keys as Wire[]).map((key) => this.#fromItem(key)),
        }));
      }
    }
    return out;
  }
}

/**
 * DynamoDB's JSON with its binary values (`{"B": "<base64>"}`, `{"BS": [...]}`) as bytes, as the SDK answers them.
 * Only an attribute value holds a string (or strings) under the key `B` or `BS`, so the reviver cannot mistake an
 * attribute named `B` (its value is an object); bodies without such a key are parsed without it.
 */
function parseWithBlobs(body: string): unknown {
  if (body.indexOf('"B') === -1) return JSON.parse(body);
  return JSON.parse(body, (key, value: unknown) => {
    if (key === 'B' && typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
    if (key === 'BS' && Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => new Uint8Array(Buffer.from(v, 'base64')));
    return value;
  });
}

function mapValues<A, B>(record: Record<string, A>, f: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}
