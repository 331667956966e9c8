/**
 * The packaged CloudFormation template, as an SRE reviews it before signing off a deployment: what `npm run
 * package` writes to `.serverless/cloudformation-template-update-stack.json`, built here for two stages side by
 * side (each into its own folder, so that other packagings running at the same time are not disturbed):
 *
 * - `prod` with every stage param at its default: what a first production deployment gets;
 * - `dev` with every optional param set (user buckets, BOS, alarm e-mail, export expiry, X-Ray, versioning off), to
 *   see each param reach the template.
 *
 * Every item of the production checklist is asserted here, so that a later change cannot quietly drop one:
 * alarms, the schedule's retries and dead-letter queue, the platform bucket's encryption, TLS-only policy,
 * lifecycle and versioning, Retain and deletion protection on the table, the bucket and the key, user buckets named
 * at deploy (no wildcard by default), API throttling and access logs, the scheduler's reserved concurrency,
 * optional X-Ray, no unused role, BOS settings that carry no secret, and metrics on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

type Json = any;
interface Template {
  Conditions: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties?: Json; Condition?: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
  Outputs: Record<string, Json>;
}

/** Packages `stage` with `params` into a folder of its own and reads the update-stack template it wrote. */
async function packaged(stage: string, params: Record<string, string>, dirs: string[]): Promise<Template> {
  const dir = await mkdtemp(path.join(tmpdir(), `qfdata-template-${stage}-`));
  dirs.push(dir);
  const args = ['node_modules/serverless/bin/serverless.js', 'package', '--stage', stage, '--package', path.join(dir, 'out')];
  for (const [name, value] of Object.entries(params)) args.push(`--param=${name}=${value}`);
  const env: NodeJS.ProcessEnv = { ...process.env, QFDATA_ESBUILD_DIR: path.join(dir, 'esbuild'), SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' };
  // The deploy-time environment variables of the stage params must not leak in from the shell running the tests.
  for (const name of Object.keys(env)) if (/^QFDATA_(USER_BUCKETS|S3_|ALARM_EMAIL|BUCKET_VERSIONING|EXPORTS_EXPIRE_DAYS|TRACING|LOG_DEBUG)/.test(name)) delete env[name];
  await run(process.execPath, args, { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(await readFile(path.join(dir, 'out', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

/**
 * Evaluates the intrinsic functions the template's own sections use (Fn::If on its Conditions, Fn::Equals, Fn::Not,
 * Fn::Split, Fn::Join, Fn::Select), leaving references symbolic: `Ref X` is `{Ref:X}`, `Fn::GetAtt [X, Arn]` is
 * `{GetAtt:X.Arn}` (in strings too), AWS::NoValue drops the list item it stands for.
 */
function evaluate(template: Template, value: Json): Json {
  const NO_VALUE = Symbol('NoValue');
  const conditions: Record<string, boolean> = {};
  const condition = (name: string): boolean => (conditions[name] ??= Boolean(walk(template.Conditions[name])));
  function walk(v: Json): Json {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const arg = v[fn];
      switch (fn) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : `{Ref:${arg}}`;
        case 'Fn::GetAtt':
          return `{GetAtt:${arg[0]}.${arg[1]}}`;
        case 'Fn::If':
          return walk(condition(arg[0]) ? arg[1] : arg[2]);
        case 'Fn::Equals':
          return walk(arg[0]) === walk(arg[1]);
        case 'Fn::Not':
          return !walk(arg[0]);
        case 'Fn::Join':
          return (walk(arg[1]) as Json[]).join(arg[0]);
        case 'Fn::Split':
          return String(walk(arg[1])).split(arg[0]);
        case 'Fn::Select':
          return (walk(arg[1]) as Json[])[Number(walk(arg[0]))];
        case 'Condition':
          return condition(arg);
      }
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]).filter(([, x]) => x !== NO_VALUE));
  }
  return walk(value);
}

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
/** A resource CloudFormation will create: no condition, or one that holds. */
const created = (t: Template, name: string) => {
  const c = t.Resources[name]!.Condition;
  return c === undefined || evaluate(t, { Condition: c }) === true;
};
const functionsOf = (t: Template) => ofType(t, 'AWS::Lambda::Function').map(([name, r]) => ({ logicalId: name, ...r.Properties }));
const alarmsOf = (t: Template) => ofType(t, 'AWS::CloudWatch::Alarm').map(([name, r]) => ({ logicalId: name, ...evaluate(t, r.Properties) }));
const roleStatements = (t: Template, roleId: string): Json[] =>
  evaluate(t, t.Resources[roleId]!.Properties.Policies).flatMap((p: Json) => p.PolicyDocument.Statement);
const asList = (x: Json): Json[] => (Array.isArray(x) ? x : [x]);

describe('The packaged template (npm run package) is production-ready', () => {
  const dirs: string[] = [];
  let prod: Template;
  let dev: Template;
  const DEV_PARAMS = {
    userBuckets: 'team-a,team-b.data',
    alarmEmail: 'oncall@example.com',
    exportsExpireDays: '30',
    tracing: 'Active',
    bucketVersioning: 'Suspended',
    s3Endpoint: 'https://s3.bj.bcebos.com',
    s3Region: 'bj',
    s3Credentials: 'secretsmanager:qfdata/dev/bos',
    pipelineBucket: 'team-a',
    pipelineDatasetId: 'dg-0123456789abcdef',
    pipelineAccount: 'team-a',
  };

  beforeAll(async () => {
    // One after the other: two packagings at once race on <project>/.serverless (serverless-state.json: ENOENT).
    prod = await packaged('prod', {}, dirs);
    dev = await packaged('dev', DEV_PARAMS, dirs);
  }, 600_000);
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  describe('alarms', () => {
    it('go to one SNS topic, mailed to the alarmEmail param when it is set', () => {
      // Assess
      for (const t of [prod, dev]) {
        expect(ofType(t, 'AWS::SNS::Topic').map(([name]) => name)).toEqual(['AlarmTopic']);
        for (const alarm of alarmsOf(t)) {
          expect(alarm.AlarmActions, alarm.logicalId).toEqual(['{Ref:AlarmTopic}']);
          expect(alarm.OKActions, alarm.logicalId).toEqual(['{Ref:AlarmTopic}']);
        }
      }
      expect(created(prod, 'AlarmEmailSubscription')).toBe(false);
      expect(created(dev, 'AlarmEmailSubscription')).toBe(true);
      expect(dev.Resources.AlarmEmailSubscription!.Properties).toEqual({ TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' });
    });

    it('fire when any dead-letter queue holds a message', () => {
      // Prepare: every queue something dead-letters into (an SQS redrive policy or an EventBridge target)
      const t = prod;
      const dlqs = new Set<string>();
      for (const [, q] of ofType(t, 'AWS::SQS::Queue')) {
        const target = evaluate(t, q.Properties?.RedrivePolicy?.deadLetterTargetArn);
        if (target) dlqs.add(String(target).replace(/^\{GetAtt:(.*)\.Arn\}$/, '$1'));
      }
      for (const [, rule] of ofType(t, 'AWS::Events::Rule')) {
        for (const target of evaluate(t, rule.Properties.Targets)) dlqs.add(String(target.DeadLetterConfig?.Arn).replace(/^\{GetAtt:(.*)\.Arn\}$/, '$1'));
      }
      // Assess
      expect([...dlqs].sort()).toEqual(['ImportDeadLetterQueue', 'ObjectEventsDeadLetterQueue', 'SchedulerDeadLetterQueue']);
      for (const queue of dlqs) {
        const alarm = alarmsOf(t).find((a) => a.Namespace === 'AWS/SQS' && a.Dimensions?.[0]?.Value === `{GetAtt:${queue}.QueueName}`);
        expect(alarm, queue).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      }
    });

    it('fire on every function’s errors and throttles', () => {
      for (const t of [prod, dev]) {
        // Prepare
        const alarms = alarmsOf(t).filter((a) => a.Namespace === 'AWS/Lambda');
        const watched = (metric: string) => new Set(alarms.filter((a) => a.MetricName === metric).map((a) => a.Dimensions[0].Value));
        // Assess
        const functions = functionsOf(t).map((f) => `{Ref:${f.logicalId}}`);
        expect(functions.length).toBeGreaterThanOrEqual(16);
        for (const fn of functions) {
          expect(watched('Errors').has(fn), `${fn} has no Errors alarm: add <Name>ErrorsAlarm to serverless.yml`).toBe(true);
          expect(watched('Throttles').has(fn), `${fn} has no Throttles alarm: add <Name>ThrottlesAlarm to serverless.yml`).toBe(true);
        }
        for (const alarm of alarms.filter((a) => a.MetricName === 'Errors')) expect(alarm).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      }
    });

    it('fire when a scheduler run takes 80% of its timeout', () => {
      // Prepare
      const scheduler = functionsOf(prod).find((f) => f.FunctionName === 'qfdata-prod-scheduler')!;
      // Act
      const alarm = alarmsOf(prod).find((a) => a.MetricName === 'Duration' && a.Dimensions[0].Value === `{Ref:${scheduler.logicalId}}`);
      // Assess
      expect(alarm).toMatchObject({ Statistic: 'Maximum', ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(alarm!.Threshold).toBe(scheduler.Timeout * 1000 * 0.8);
    });

    it('fire on the API’s 5xx share of requests', () => {
      // Act
      const alarm = alarmsOf(prod).find((a) => Array.isArray(a.Metrics))!;
      // Assess
      const metric = (name: string) => alarm.Metrics.find((m: Json) => m.MetricStat?.Metric.MetricName === name);
      expect(metric('5xx').MetricStat.Metric).toMatchObject({ Namespace: 'AWS/ApiGateway', Dimensions: [{ Name: 'ApiId', Value: '{Ref:HttpApi}' }] });
      expect(metric('Count').MetricStat.Metric.Dimensions).toEqual([{ Name: 'ApiId', Value: '{Ref:HttpApi}' }]);
      const rate = alarm.Metrics.find((m: Json) => m.ReturnData === true);
      expect(rate.Expression).toMatch(/100 \* errors \/ requests/);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
    });
  });

  it('retries the schedule’s ticks and parks the undeliverable ones in a dead-letter queue EventBridge may write to', () => {
    // Prepare
    const rules = ofType(prod, 'AWS::Events::Rule').filter(([name]) => created(prod, name));
    expect(rules.length).toBeGreaterThan(0);
    for (const [ruleId, rule] of rules) {
      for (const target of evaluate(prod, rule.Properties.Targets)) {
        // Assess
        expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
        const queue = String(target.DeadLetterConfig.Arn).replace(/^\{GetAtt:(.*)\.Arn\}$/, '$1');
        const policy = ofType(prod, 'AWS::SQS::QueuePolicy').find(([, p]) => evaluate(prod, p.Properties.Queues).includes(`{Ref:${queue}}`));
        // The rule by reference, or (a rule serverless names for a function's eventBridge event) by its ARN.
        const ruleArns = [`{GetAtt:${ruleId}.Arn}`, `arn:{Ref:AWS::Partition}:events:{Ref:AWS::Region}:{Ref:AWS::AccountId}:rule/${String(rule.Properties.Name)}`];
        const statements = evaluate(prod, policy![1].Properties.PolicyDocument.Statement) as Json[];
        expect(
          statements.some((st) => st.Effect === 'Allow' && st.Principal?.Service === 'events.amazonaws.com' && st.Action === 'sqs:SendMessage' && ruleArns.includes(st.Condition?.ArnEquals?.['aws:SourceArn'])),
          `${ruleId}: its dead-letter queue ${queue} lets EventBridge write for this rule only`,
        ).toBe(true);
      }
    }
    // The scheduler's own async invocations are not retried (the next tick comes within a minute).
    const config = ofType(prod, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    expect(config).toContainEqual(expect.objectContaining({ FunctionName: { Ref: 'SchedulerLambdaFunction' }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }));
  });

  describe('the platform bucket', () => {
    it('is encrypted, reachable over TLS only, and versioned by the bucketVersioning param', () => {
      // Act
      const bucket = evaluate(prod, prod.Resources.PlatformBucket!.Properties);
      const policy = ofType(prod, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === 'PlatformBucket')![1];
      // Assess
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toMatch(/^(AES256|aws:kms)$/);
      expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(evaluate(prod, policy.Properties.PolicyDocument.Statement)).toContainEqual({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: ['{GetAtt:PlatformBucket.Arn}', '{GetAtt:PlatformBucket.Arn}/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(dev.Resources.PlatformBucket!.Properties.VersioningConfiguration).toEqual({ Status: 'Suspended' });
    });

    it('aborts unfinished multipart uploads after a day, expires temporaries and old versions, and export archives when asked', () => {
      // Act
      const rules = (t: Template) => evaluate(t, t.Resources.PlatformBucket!.Properties.LifecycleConfiguration.Rules) as Json[];
      const byId = (t: Template, id: string) => rules(t).find((r) => r.Id === id);
      // Assess
      for (const t of [prod, dev]) {
        for (const rule of rules(t)) expect(rule.Status).toBe('Enabled');
        expect(byId(t, 'AbortIncompleteMultipartUploads')).toMatchObject({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
        expect(byId(t, 'AbortIncompleteMultipartUploads')).not.toHaveProperty('Prefix');
        expect(byId(t, 'ExpireTemporaryObjects')).toMatchObject({ Prefix: 'tmp/', ExpirationInDays: 2 });
        expect(byId(t, 'ExpireNoncurrentVersions')).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
      }
      expect(byId(prod, 'ExpireExportArchives')).toBeUndefined();
      expect(byId(dev, 'ExpireExportArchives')).toMatchObject({ Prefix: 'exports/', ExpirationInDays: '30' });
    });
  });

  it('keeps the table, the bucket and the key when the stack is removed or they would be replaced, and protects them from deletion', () => {
    // Prepare
    const r = prod.Resources;
    // Assess
    for (const name of ['MetadataTable', 'PlatformBucket', 'PlatformBucketPolicy', 'SecretsKey']) {
      expect(r[name], name).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    expect(r.MetadataTable!.Properties.DeletionProtectionEnabled).toBe(true);
    expect(r.MetadataTable!.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    const bucketPolicy = evaluate(prod, r.PlatformBucketPolicy!.Properties.PolicyDocument.Statement);
    expect(bucketPolicy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket' }));
    const keyPolicy = evaluate(prod, r.SecretsKey!.Properties.KeyPolicy.Statement);
    expect(keyPolicy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: ['kms:ScheduleKeyDeletion'] }));
    expect(r.SecretsKey!.Properties).toMatchObject({ EnableKeyRotation: true, PendingWindowInDays: 30 });
  });

  describe('user buckets', () => {
    const s3Resources = (t: Template) =>
      functionsOf(t).flatMap((f) => {
        const roleId = String(f.Role['Fn::GetAtt'][0]);
        return roleStatements(t, roleId)
          .filter((s) => asList(s.Action).some((a: string) => a.startsWith('s3:')))
          .map((s) => ({ fn: f.logicalId, actions: asList(s.Action), resources: asList(s.Resource) }));
      });

    it('are none by default: the roles reach the platform bucket only, never arn:aws:s3:::*', () => {
      // Act
      const statements = s3Resources(prod);
      // Assess
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        for (const arn of s.resources) expect(arn, s.fn).toMatch(/^\{GetAtt:PlatformBucket\.Arn\}(\/\*)?$/);
      }
      for (const f of functionsOf(prod)) expect(f.Environment.Variables.QFDATA_USER_BUCKETS).toBe('');
    });

    it('are exactly the buckets the userBuckets param names, in the roles and in the functions’ check', () => {
      // Act
      const statements = s3Resources(dev);
      // Assess
      for (const s of statements) {
        const objects = !s.actions.includes('s3:ListBucket');
        const suffix = objects ? '/*' : '';
        expect(s.resources, s.fn).toEqual([`{GetAtt:PlatformBucket.Arn}${suffix}`, `arn:aws:s3:::team-a${suffix}`, `arn:aws:s3:::team-b.data${suffix}`]);
      }
      for (const f of functionsOf(dev)) expect(f.Environment.Variables.QFDATA_USER_BUCKETS).toBe('team-a,team-b.data');
    });
  });

  it('throttles the HTTP API and writes its access log as JSON, kept 14 days', () => {
    // Prepare
    const stage = evaluate(prod, prod.Resources.HttpApiStage!.Properties);
    // Assess
    expect(stage.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(stage.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
    const group = String(stage.AccessLogSettings.DestinationArn).replace(/^\{GetAtt:(.*)\.Arn\}$/, '$1');
    expect(prod.Resources[group]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 14 } });
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', lambdaRequestId: '$context.integration.requestId', status: '$context.status' });
    for (const [, logGroup] of ofType(prod, 'AWS::Logs::LogGroup')) expect(logGroup.Properties.RetentionInDays).toBe(14);
  });

  it('reserves the scheduler’s concurrency', () => {
    // Act
    const scheduler = functionsOf(prod).find((f) => f.FunctionName === 'qfdata-prod-scheduler')!;
    // Assess
    expect(scheduler.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
    expect(scheduler.ReservedConcurrentExecutions).toBeLessThanOrEqual(5);
  });

  it('traces with X-Ray only when the tracing param is Active, and lets the roles write traces only then', () => {
    for (const [t, mode, effect] of [
      [prod, 'PassThrough', 'Deny'],
      [dev, 'Active', 'Allow'],
    ] as const) {
      for (const f of functionsOf(t)) {
        // Assess
        expect(f.TracingConfig, f.logicalId).toEqual({ Mode: mode });
        const xray = roleStatements(t, String(f.Role['Fn::GetAtt'][0])).filter((s) => asList(s.Action).some((a: string) => a.startsWith('xray:')));
        expect(xray, f.logicalId).toEqual([{ Effect: effect, Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }]);
      }
    }
  });

  it('creates no role that no function uses', () => {
    for (const t of [prod, dev]) {
      // Prepare: the functions' roles, and those of the example pipeline's state machine and trigger
      const byFunctions = new Set(functionsOf(t).map((f) => String(f.Role['Fn::GetAtt'][0])));
      const used = new Set(byFunctions);
      for (const [name] of ofType(t, 'AWS::StepFunctions::StateMachine').filter(([name]) => created(t, name))) used.add(String(t.Resources[name]!.Properties.RoleArn['Fn::GetAtt'][0]));
      for (const [name, rule] of ofType(t, 'AWS::Events::Rule').filter(([name]) => created(t, name))) {
        for (const target of rule.Properties.Targets) if (target.RoleArn) used.add(String(target.RoleArn['Fn::GetAtt'][0]));
        void name;
      }
      // Act
      const roles = ofType(t, 'AWS::IAM::Role').map(([name]) => name);
      // Assess
      for (const role of roles) expect(created(t, role) ? used.has(role) : true, `${role} is created but nothing uses it`).toBe(true);
      expect(created(t, 'IamRoleLambdaExecution')).toBe(false);
      expect(byFunctions.size).toBe(functionsOf(t).length);
    }
  });

  it('points the S3 store at BOS through stage params, with the keys named by where they are, never given', () => {
    // Prepare
    const env = (t: Template) => functionsOf(t).map((f) => f.Environment.Variables);
    // Assess
    for (const vars of env(prod)) expect(vars).toMatchObject({ QFDATA_S3_ENDPOINT: '', QFDATA_S3_REGION: '', QFDATA_S3_CREDENTIALS: '' });
    for (const vars of env(dev)) {
      expect(vars).toMatchObject({ QFDATA_S3_ENDPOINT: 'https://s3.bj.bcebos.com', QFDATA_S3_REGION: 'bj', QFDATA_S3_CREDENTIALS: 'secretsmanager:qfdata/dev/bos' });
      for (const [name, value] of Object.entries(vars)) expect(`${name}=${JSON.stringify(value)}`).not.toMatch(/ACCESS_KEY|SECRET_ACCESS|accessKeyId|secretAccessKey/i);
    }
    // Functions that touch objects may read the stage's own secrets and parameters, and no others.
    for (const f of functionsOf(dev)) {
      const statements = roleStatements(dev, String(f.Role['Fn::GetAtt'][0]));
      const reads = statements.filter((s) => asList(s.Action).some((a: string) => /^(secretsmanager|ssm):/.test(a)));
      const touchesObjects = statements.some((s) => asList(s.Action).some((a: string) => a.startsWith('s3:')));
      expect(reads.length, f.logicalId).toBe(touchesObjects ? 1 : 0);
      for (const s of reads) {
        expect(s.Action).toEqual(['secretsmanager:GetSecretValue', 'ssm:GetParameter']);
        expect(s.Resource).toEqual([
          'arn:{Ref:AWS::Partition}:secretsmanager:{Ref:AWS::Region}:{Ref:AWS::AccountId}:secret:qfdata/dev/*',
          'arn:{Ref:AWS::Partition}:ssm:{Ref:AWS::Region}:{Ref:AWS::AccountId}:parameter/qfdata/dev/*',
        ]);
      }
    }
  });

  describe('events and import rules (issue 13)', () => {
    const publishers = ['V1CreateLambdaFunction', 'V1ReleaseLambdaFunction', 'V1DeleteLambdaFunction', 'EntityAnnotateLambdaFunction', 'EntityDeleteLambdaFunction', 'V2DatasetLambdaFunction', 'ImportWorkerLambdaFunction', 'SchedulerLambdaFunction', 'ObjectCreatedLambdaFunction'];

    it('publishes to a bus of the stack’s own, and only the functions that change state may put events, only on it', () => {
      for (const t of [prod, dev]) {
        // Prepare
        const stage = t === prod ? 'prod' : 'dev';
        // Assess
        expect(ofType(t, 'AWS::Events::EventBus').map(([name, r]) => [name, r.Properties.Name])).toEqual([['EventBus', `qfdata-${stage}`]]);
        expect(evaluate(t, t.Outputs.EventBusName)).toEqual({ Value: '{Ref:EventBus}' });
        for (const f of functionsOf(t)) {
          expect(evaluate(t, f.Environment.Variables.QFDATA_EVENT_BUS), f.logicalId).toBe('{Ref:EventBus}');
          const events = roleStatements(t, String(f.Role['Fn::GetAtt'][0])).filter((st) => asList(st.Action).some((a: string) => a.startsWith('events:')));
          if (publishers.includes(f.logicalId)) expect(events, f.logicalId).toEqual([{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: ['{GetAtt:EventBus.Arn}'] }]);
          else expect(events, f.logicalId).toEqual([]);
        }
        expect(functionsOf(t).map((f) => f.logicalId)).toEqual(expect.arrayContaining(publishers));
      }
    });

    it('lets only the functions that end tasks answer Step Functions', () => {
      for (const f of functionsOf(prod)) {
        const states = roleStatements(prod, String(f.Role['Fn::GetAtt'][0])).filter((st) => asList(st.Action).some((a: string) => a.startsWith('states:')));
        if (['ImportWorkerLambdaFunction', 'SchedulerLambdaFunction'].includes(f.logicalId)) expect(states, f.logicalId).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Resource: '*' }]);
        else expect(states, f.logicalId).toEqual([]);
      }
    });

    it('ships the example pipeline only when the pipelineBucket param is set, each part with only what it needs', () => {
      // Assess: off by default
      for (const name of ['ExamplePipeline', 'ExamplePipelineRole', 'ExamplePipelineTrigger', 'ExamplePipelineTriggerRole']) {
        expect(created(prod, name), name).toBe(false);
        expect(created(dev, name), name).toBe(true);
      }
      // The state machine: import and export wait for qfdata's callback; every step invokes v2Dataset directly
      const machine = dev.Resources.ExamplePipeline!.Properties;
      const states = machine.Definition.States as Record<string, Json>;
      expect(machine.Definition.StartAt).toBe('CreateVersion');
      expect(Object.entries(states).filter(([, st]) => st.Type === 'Task').map(([name, st]) => [name, st.Resource, st.Parameters.Payload.action])).toEqual([
        ['CreateVersion', 'arn:aws:states:::lambda:invoke', 'CreateDatasetVersion'],
        ['Import', 'arn:aws:states:::lambda:invoke.waitForTaskToken', 'CreateImportTask'],
        ['Publish', 'arn:aws:states:::lambda:invoke', 'PublishDatasetVersion'],
        ['Export', 'arn:aws:states:::lambda:invoke.waitForTaskToken', 'CreateExportTask'],
      ]);
      for (const waiting of [states.Import, states.Export]) {
        expect(waiting.Parameters.Payload.body['taskToken.$']).toBe('$$.Task.Token');
        expect(waiting.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Failed' })]);
      }
      expect(evaluate(dev, machine.DefinitionSubstitutions)).toEqual({ Dataset: '{GetAtt:V2DatasetLambdaFunction.Arn}', Account: 'team-a', DatasetId: 'dg-0123456789abcdef' });
      // Least privilege: the machine may invoke v2Dataset only; the trigger may start this machine only
      expect(roleStatements(dev, 'ExamplePipelineRole')).toEqual([{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['{GetAtt:V2DatasetLambdaFunction.Arn}'] }]);
      expect(roleStatements(dev, 'ExamplePipelineTriggerRole')).toEqual([{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: ['{Ref:ExamplePipeline}'] }]);
      const trigger = evaluate(dev, dev.Resources.ExamplePipelineTrigger!.Properties);
      expect(trigger.EventPattern).toEqual({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['team-a'] } } });
      expect(trigger.Targets).toEqual([expect.objectContaining({ Arn: '{Ref:ExamplePipeline}', RoleArn: '{GetAtt:ExamplePipelineTriggerRole.Arn}', DeadLetterConfig: { Arn: '{GetAtt:ObjectEventsDeadLetterQueue.Arn}' } })]);
    });

    it('keeps the outbox index on the table, projecting only the outbox', () => {
      // Act
      const indexes = prod.Resources.MetadataTable!.Properties.GlobalSecondaryIndexes as Json[];
      // Assess
      expect(indexes.find((i) => i.IndexName === 'GSI2')).toEqual({
        IndexName: 'GSI2',
        KeySchema: [{ AttributeName: 'GSI2PK', KeyType: 'HASH' }, { AttributeName: 'GSI2SK', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['outbox'] },
      });
    });

    it('routes S3’s Object Created events to objectCreated, which only that rule may invoke and which cannot write objects', () => {
      // Prepare
      const [ruleId, rule] = ofType(prod, 'AWS::Events::Rule').find(([, r]) => r.Properties.EventPattern?.source?.[0] === 'aws.s3')!;
      const permission = ofType(prod, 'AWS::Lambda::Permission').map(([, p]) => evaluate(prod, p.Properties)).find((p) => p.FunctionName === '{GetAtt:ObjectCreatedLambdaFunction.Arn}');
      const fn = functionsOf(prod).find((f) => f.logicalId === 'ObjectCreatedLambdaFunction')!;
      const actions = roleStatements(prod, String(fn.Role['Fn::GetAtt'][0])).flatMap((st) => (st.Effect === 'Allow' ? asList(st.Action) : []));
      // Assess
      expect(rule.Properties.EventPattern).toEqual({ source: ['aws.s3'], 'detail-type': ['Object Created'] });
      expect(evaluate(prod, rule.Properties.Targets)).toEqual([expect.objectContaining({ Arn: '{GetAtt:ObjectCreatedLambdaFunction.Arn}' })]);
      expect(ruleId).toMatch(/EventBridgeRule$/);
      expect(permission).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: `arn:{Ref:AWS::Partition}:events:{Ref:AWS::Region}:{Ref:AWS::AccountId}:rule/${String(rule.Properties.Name)}` });
      expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 'sqs:SendMessage', 'events:PutEvents', 'dynamodb:PutItem']));
      expect(actions).not.toContain('s3:PutObject');
      expect(actions).not.toContain('kms:Decrypt');
      expect(actions).not.toContain('kms:Encrypt');
    });
  });

  it('writes EMF metrics into the stage’s namespace', () => {
    for (const f of functionsOf(prod)) expect(f.Environment.Variables, f.logicalId).toMatchObject({ QFDATA_METRICS: 'emf', QFDATA_METRICS_NAMESPACE: 'qfdata-prod' });
  });
});
