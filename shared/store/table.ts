/**
 * The single-table layout. serverless.yml declares the same table for the cloud (a unit test keeps the two in step);
 * the local launcher and the tests create it from this definition.
 *
 * | item            | PK                | SK                  | GSI1PK                    | GSI1SK   |
 * |-----------------|-------------------|---------------------|---------------------------|----------|
 * | access key      | `K#<accessKeyId>` | `K`                 |                           |          |
 * | legacy counter  | `C#legacy`        | `C`                 |                           |          |
 * | dataset         | `A#<account>`     | `D#<dg-id>`         | `A#<account>#F#<format>`  | `<dg-id>`|
 * | version         | `A#<account>`     | `V#<ds-id>`         | `A#<account>#D#<dg-id>`   | `<ds-id>`|
 * | legacy id → ds  | `A#<account>`     | `L#<legacy id>`     |                           |          |
 * | export schedule | `A#<account>`     | `S#<sch-id>`        | `DUE#schedule` (Active)   | `<nextRunAt ISO>#<account>#<sch-id>` |
 *
 * Ids are time-ordered, so sort keys order datasets and versions by creation time. GSI1 is overloaded: datasets by
 * format (O(page) format filters), versions by dataset.
 *
 * GSI2 is the outbox (`shared/events/relay.ts`): an item holding events that are not published yet carries them in
 * its `outbox` list and `GSI2PK` = `OUTBOX`, `GSI2SK` = when the oldest of them was recorded. It is sparse (an item
 * leaves it when its last event is acknowledged) and projects only the outbox, which is all the sweep reads. Its
 * `DELETIONS` partition lists the tombstones (deletions whose objects are still being purged, by creation time):
 * a tombstone's events stay in its `outbox` but it is indexed there, not under `OUTBOX`.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const GSI1 = 'GSI1';
export const GSI2 = 'GSI2';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      { AttributeName: 'GSI1PK', AttributeType: 'S' },
      { AttributeName: 'GSI1SK', AttributeType: 'S' },
      { AttributeName: 'GSI2PK', AttributeType: 'S' },
      { AttributeName: 'GSI2SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'GSI1PK', KeyType: 'HASH' },
          { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: GSI2,
        KeySchema: [
          { AttributeName: 'GSI2PK', KeyType: 'HASH' },
          { AttributeName: 'GSI2SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['outbox'] },
      },
    ],
  };
}
