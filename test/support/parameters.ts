/**
 * A stand-in for AWS Secrets Manager's GetSecretValue and SSM's GetParameter (the JSON 1.1 protocol,
 * `X-Amz-Target: secretsmanager.GetSecretValue` / `AmazonSSM.GetParameter`), for the tests of the S3 store's
 * credentials: neither service has an emulator that installs offline. It answers as the services do (a missing
 * name is `ResourceNotFoundException` / `ParameterNotFound`; a SecureString is decrypted only when asked with
 * `WithDecryption`), lets a test rotate a value, and records every call so a test can count reads.
 * It does not check request signatures (AWS does).
 */
import { createServer, type Server } from 'node:http';

export interface FakeParameters {
  endpoint: string;
  /** Credentials for the SDK clients that talk to it (any pair works: signatures are not checked). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  calls: { target: string; body: Record<string, unknown> }[];
  /** Sets (or rotates) a secret's string. */
  setSecret(name: string, value: string): void;
  /** Sets (or rotates) a SecureString parameter. */
  setParameter(name: string, value: string): void;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

export async function startFakeParameters(): Promise<FakeParameters> {
  const secrets = new Map<string, { value: string; version: number }>();
  const parameters = new Map<string, { value: string; version: number }>();
  const calls: FakeParameters['calls'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      calls.push({ target, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target === 'secretsmanager.GetSecretValue') {
        const name = String(body.SecretId);
        const secret = secrets.get(name);
        if (!secret) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return reply(200, {
          ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
          Name: name,
          SecretString: secret.value,
          VersionId: `v${secret.version}`,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        });
      }
      if (target === 'AmazonSSM.GetParameter') {
        const name = String(body.Name);
        const parameter = parameters.get(name);
        if (!parameter) return reply(400, { __type: 'ParameterNotFound', message: '' });
        const value = body.WithDecryption === true ? parameter.value : Buffer.from(`sealed:${parameter.value}`).toString('base64');
        return reply(200, {
          Parameter: { Name: name, Type: 'SecureString', Value: value, Version: parameter.version, ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`, DataType: 'text' },
        });
      }
      return reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const bump = (store: Map<string, { value: string; version: number }>, name: string, value: string) =>
    store.set(name, { value, version: (store.get(name)?.version ?? 0) + 1 });
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    credentials: { accessKeyId: 'fake-parameters-ak', secretAccessKey: 'fake-parameters-sk' },
    calls,
    setSecret: (name, value) => bump(secrets, name, value),
    setParameter: (name, value) => bump(parameters, name, value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
