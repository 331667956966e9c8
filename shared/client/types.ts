/**
 * The typed wire of every operation, read from the registry (`shared/api/registry.ts`): an operation's input is
 * `z.input` of its contract's schema (what a caller may send, defaults optional), its result the contract's result
 * type (what the envelope carries in `result`). Type-only imports: nothing of the server reaches the client here.
 */
import type { InputOf, ResultOf } from '../api/contract.js';
import type { Registry } from '../api/registry.js';

type Ops<R extends keyof Registry> = Registry[R];

export type V1Operation = keyof Ops<'v1'> & string;
export type EntityOperation = keyof Ops<'entity'> & string;
export type V2Action = keyof Ops<'dataset'> & string;
export type KeyAction = keyof Ops<'accessKey'> & string;
export type BucketAction = keyof Ops<'bucket'> & string;

export type V1Input<O extends V1Operation> = InputOf<Ops<'v1'>[O]>;
export type V1Result<O extends V1Operation> = ResultOf<Ops<'v1'>[O]>;
export type EntityInput<O extends EntityOperation> = InputOf<Ops<'entity'>[O]>;
export type EntityResult<O extends EntityOperation> = ResultOf<Ops<'entity'>[O]>;
export type V2Input<A extends V2Action> = InputOf<Ops<'dataset'>[A]>;
export type V2Result<A extends V2Action> = ResultOf<Ops<'dataset'>[A]>;
export type KeyInput<A extends KeyAction> = InputOf<Ops<'accessKey'>[A]>;
export type KeyResult<A extends KeyAction> = ResultOf<Ops<'accessKey'>[A]>;
export type BucketInput<A extends BucketAction> = InputOf<Ops<'bucket'>[A]>;
export type BucketResult<A extends BucketAction> = ResultOf<Ops<'bucket'>[A]>;

/** Results the waiters return. */
export type ImportTask = V2Result<'DescribeImportTask'>;
export type ExportTask = V2Result<'DescribeExportTask'>;

/** An access key as listed, disabled or enabled (never its secret). */
export type AccessKey = KeyResult<'DisableAccessKey'>;
/** An access key just created or rotated: the only answer that holds its `secretAccessKey`. */
export type IssuedAccessKey = KeyResult<'CreateAccessKey'>;
/** A bucket as the caller's account sees it. */
export type Bucket = BucketResult<'CreateBucket'>;
