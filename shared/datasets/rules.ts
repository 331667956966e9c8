/**
 * Import rules (a qfdata extension beyond Qianfan): "an object that lands under bos:/bucket/prefix (ending in
 * suffix) is imported into this dataset", into a new version per object or into one named version.
 *
 * How an object fires the rules ({@link ImportRuleService.fire}): every rule of any account on the object's bucket
 * whose prefix and suffix match, and whose account may (still) use the bucket, starts one import of it. Exactly one
 * per object version, however often it is announced: the new version (if any) and the import are made with a
 * clientToken of the rule and the object's bucket, key and ETag (`./idempotency.ts`), so a repeated notification
 * finds the first one's result (and finishes what a first attempt that died left undone). The ETag is the stored
 * object's version tag (its size and modification time, as the twin's BOS endpoint reports it), which the
 * notification path and the sweep compute alike from the object itself.
 *
 * Who announces objects: in the cloud, S3's object-created notifications through EventBridge
 * (`functions/jobs/objectCreated.ts`); locally, the twin's BOS endpoint when an object is written through it; and
 * everywhere the scheduled sweep ({@link ImportRuleService.sweep}), which lists each rule's prefix for objects
 * modified since its last pass (BOS sends no notification; a directory dropped into a local bucket sends none; a
 * drop refused because its named version was busy is tried again).
 */
import { createHash } from 'node:crypto';
import { InappropriateJSONError, notFound, PreconditionFailedError, ResourceNotFoundError } from '../errors.js';
import { describeCause, log } from '../log.js';
import { listAll, type ObjectStore } from '../objects/index.js';
import { storableKeyProblem } from '../objects/port.js';
import type { Clock, ImportRuleRecord } from '../model.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import type { BucketService } from './buckets.js';
import { idempotent, type ClientToken } from './idempotency.js';
import { isId, newId } from './ids.js';
import type { Budget, ImportService } from './imports.js';
import { pageInfo, pageQuery, type PageInfo, type PageRequest } from './pagination.js';
import type { Caller, DatasetService } from './service.js';

export interface NewImportRule {
  bucket: string;
  prefix: string;
  suffix?: string;
  datasetId: string;
  versionId?: string;
}

export interface RuleDeps {
  store: MetadataStore;
  objects: ObjectStore;
  buckets: BucketService;
  datasets: DatasetService;
  imports: ImportService;
  now?: Clock;
}

/** What one object came to for one rule; `retry` when it should be tried again (its named version was busy). */
export type FireOutcome = { ruleId: string; taskId: string } | { ruleId: string; skipped: string; retry: boolean };

/** The sweep looks again this far behind its cursor: files copied in keep their old modification time for a moment. */
const SWEEP_OVERLAP_MS = 5 * 60_000;

export class ImportRuleService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #buckets: BucketService;
  readonly #datasets: DatasetService;
  readonly #imports: ImportService;
  readonly #now: Clock;

  constructor(deps: RuleDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#buckets = deps.buckets;
    this.#datasets = deps.datasets;
    this.#imports = deps.imports;
    this.#now = deps.now ?? Date.now;
  }

  /** Stores a rule; the bucket must be the caller's, the dataset (and the named version, of that dataset) must exist. */
  async create(caller: Caller, input: NewImportRule, token?: ClientToken): Promise<ImportRuleRecord> {
    const unstorable = input.prefix === '' ? undefined : storableKeyProblem(input.prefix);
    if (unstorable) throw new InappropriateJSONError(`param[prefix] invalid: ${unstorable}.`);
    // The ids first (another account's answer as missing ones), then the bucket (it must be the caller's).
    const dataset = await this.#datasets.getDataset(caller, input.datasetId);
    if (input.versionId) {
      const { version } = await this.#datasets.getVersion(caller, input.versionId);
      if (version.datasetId !== dataset.datasetId) {
        throw new InappropriateJSONError(`param[versionId] invalid: the version ${version.versionId} does not belong to the dataset ${dataset.datasetId}.`);
      }
    }
    await this.#buckets.assertUsable(caller, input.bucket, (b) => new InappropriateJSONError(`param[bucket] invalid: the bucket "${b}" does not exist or is not reachable by qfdata.`));
    return idempotent(this.#store, caller.account, token, input, {
      plan: async () => ({ ruleId: newId('rule'), at: new Date(this.#now()).toISOString() }),
      run: async (plan) => {
        const done = await this.#store.getImportRule(caller.account, plan.ruleId);
        if (done) return done;
        const rule: ImportRuleRecord = {
          account: caller.account,
          ruleId: plan.ruleId,
          bucket: input.bucket,
          prefix: input.prefix,
          ...(input.suffix ? { suffix: input.suffix } : {}),
          datasetId: dataset.datasetId,
          ...(input.versionId ? { versionId: input.versionId } : {}),
          // Objects already there when the rule is made are not imported: only those that land from now on.
          sweptUntil: plan.at,
          createdAt: plan.at,
        };
        await this.#store.putImportRule(rule);
        return rule;
      },
    }, this.#now);
  }

  async get(caller: Caller, ruleId: string): Promise<ImportRuleRecord> {
    const rule = isId('rule', ruleId) ? await this.#store.getImportRule(caller.account, ruleId) : undefined;
    if (!rule) throw notFound('import rule', ruleId);
    return rule;
  }

  async list(caller: Caller, request: PageRequest): Promise<{ pageInfo: PageInfo; rules: ImportRuleRecord[] }> {
    const page = await this.#store.listImportRules(caller.account, pageQuery(request, 'rule'));
    return { pageInfo: pageInfo(request, { more: page.more, lastId: page.items.at(-1)?.ruleId }), rules: page.items };
  }

  /** Deletes a rule: objects that land afterwards start nothing; imports it started go on. */
  async delete(caller: Caller, ruleId: string): Promise<void> {
    const gone = isId('rule', ruleId) && (await this.#store.deleteImportRule(caller.account, ruleId));
    if (!gone) throw notFound('import rule', ruleId);
  }

  /**
   * An object landed (or was announced again): starts one import per matching rule, unless that object version
   * already started one. Never throws for one rule's failure: it is logged and reported as skipped.
   */
  async fire(object: { bucket: string; key: string }, only?: ImportRuleRecord): Promise<FireOutcome[]> {
    const rules = (only ? [only] : await this.#store.listRulesOnBucket(object.bucket)).filter((r) => matches(r, object.key));
    if (rules.length === 0) return [];
    const info = await this.#objects.head(object.bucket, object.key);
    if (!info) return rules.map((r) => ({ ruleId: r.ruleId, skipped: 'the object is gone', retry: false }));
    const etag = `${info.size.toString(16)}-${info.lastModified.getTime().toString(16)}`;
    const outcomes: FireOutcome[] = [];
    for (const rule of rules) {
      try {
        outcomes.push({ ruleId: rule.ruleId, taskId: await this.#start(rule, object, etag) });
      } catch (error) {
        const skipped = (error as Error).message;
        const refused = isRefusal(error);
        if (!refused) log.warn('import rule could not start its import; the sweep tries again', { account: rule.account, ruleId: rule.ruleId, ...object, ...describeCause(error) });
        // A named version still importing the previous drop: this one waits for the next sweep.
        const busy = error instanceof PreconditionFailedError && /already importing|changed while/.test(skipped);
        outcomes.push({ ruleId: rule.ruleId, skipped, retry: busy || !refused });
      }
    }
    return outcomes;
  }

  /** Starts the rule's import of one object version (or finds the one it started). */
  async #start(rule: ImportRuleRecord, object: { bucket: string; key: string }, etag: string): Promise<string> {
    const caller = { account: rule.account };
    // The account may have lost the bucket since the rule was made (imports check again when they run).
    await this.#buckets.assertUsable(caller, object.bucket, (b) => new ResourceNotFoundError(`the bucket "${b}" is gone`));
    const token = createHash('sha256').update(`${object.bucket}\n${object.key}\n${etag}`).digest('hex').slice(0, 48);
    const versionId = rule.versionId
      ? rule.versionId
      : (await this.#datasets.createVersion(caller, rule.datasetId, `import rule ${rule.ruleId}: bos:/${object.bucket}/${object.key}`.slice(0, 1024), { operation: `rule.${rule.ruleId}.version`, token })).version.versionId;
    const task = await this.#imports.createTask(
      caller,
      versionId,
      [`bos:/${object.bucket}/${object.key}`],
      { annotated: true, firedBy: { ruleId: rule.ruleId, datasetId: rule.datasetId, bucket: object.bucket, key: object.key, etag } },
      { operation: `rule.${rule.ruleId}`, token },
    );
    log.info('import rule fired', { account: rule.account, ruleId: rule.ruleId, ...object, taskId: task.taskId });
    return task.taskId;
  }

  /**
   * The scheduled sweep: for each rule of every account, the objects under its prefix modified since its last pass
   * (with a small overlap: a repeat finds the import it started) fire the rule; the pass is then recorded. Returns
   * how many imports were started or found.
   */
  async sweep(budget?: Budget, reserveMs = 0): Promise<{ rules: number; fired: number; skipped: number }> {
    const result = { rules: 0, fired: 0, skipped: 0 };
    for (const rule of await this.#store.listRulesOnBucket()) {
      if (budget && budget.remainingMs() < reserveMs) break;
      result.rules++;
      // Never before the rule was made: what was there already is not the rule's to import.
      const since = Math.max(Date.parse(rule.createdAt), Date.parse(rule.sweptUntil ?? rule.createdAt) - SWEEP_OVERLAP_MS);
      let newest = Date.parse(rule.sweptUntil ?? rule.createdAt);
      // The cursor never passes an object that must be tried again.
      let hold = Number.POSITIVE_INFINITY;
      try {
        for await (const o of listAll(this.#objects, rule.bucket, rule.prefix)) {
          if (!matches(rule, o.key) || o.lastModified.getTime() <= since) continue;
          newest = Math.max(newest, o.lastModified.getTime());
          for (const outcome of await this.fire({ bucket: rule.bucket, key: o.key }, rule)) {
            if ('taskId' in outcome) result.fired++;
            else {
              result.skipped++;
              if (outcome.retry) hold = Math.min(hold, o.lastModified.getTime() - 1);
            }
          }
        }
        await this.#store.setRuleSweptUntil(rule.account, rule.ruleId, new Date(Math.min(newest, hold + SWEEP_OVERLAP_MS)).toISOString());
      } catch (error) {
        log.warn('import rule sweep failed; the next run tries again', { account: rule.account, ruleId: rule.ruleId, ...describeCause(error) });
      }
    }
    return result;
  }
}

function matches(rule: Pick<ImportRuleRecord, 'prefix' | 'suffix'>, key: string): boolean {
  return key.startsWith(rule.prefix) && !key.endsWith('/') && (!rule.suffix || key.endsWith(rule.suffix));
}

/** Refusals that retrying the same object cannot cure soon (and are not worth a warning each minute). */
function isRefusal(error: unknown): boolean {
  return error instanceof InappropriateJSONError || error instanceof PreconditionFailedError || error instanceof ResourceNotFoundError || error instanceof ConditionFailedError;
}

