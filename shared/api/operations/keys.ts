/**
 * The access-key actions (`POST /v2/accesskey?Action=<Action>`), a qfdata extension: Qianfan manages keys in Baidu
 * Cloud's IAM console. Every action works within the signing key's own account.
 */
import * as z from 'zod';
import { accessKeyIdField, keyDescriptionField, policyField, type v2AccessKey, type v2IssuedKey } from '../key-views.js';
import { contract } from '../contract.js';

type AccessKey = ReturnType<typeof v2AccessKey>;
type IssuedKey = ReturnType<typeof v2IssuedKey>;
const byId = z.object({ accessKeyId: accessKeyIdField });

const CreateAccessKey = contract<IssuedKey>()({
  route: 'accessKey',
  name: 'CreateAccessKey',
  needs: 'keys:Manage',
  ids: [],
  extension: true,
  input: () => z.object({ policy: policyField.optional(), description: keyDescriptionField.optional() }),
  example: () => ({ policy: 'QfdataReadOnlyAccessPolicy' as const, description: 'a read-only key for dashboards' }),
});

const DescribeAccessKeys = contract<{ accessKeys: AccessKey[] }>()({
  route: 'accessKey',
  name: 'DescribeAccessKeys',
  needs: 'keys:Manage',
  ids: [],
  extension: true,
  input: () => z.object({}),
  example: () => ({}),
});

const byIdAction = <R>(name: string) =>
  contract<R>()({ route: 'accessKey', name, needs: 'keys:Manage', ids: ['accessKeyId'], extension: true, input: () => byId, example: (ids) => ({ accessKeyId: ids.accessKeyId }) });

/** The actions of `POST /v2/accesskey`, in the order the router and the document list them. */
export const ACCESS_KEY = {
  CreateAccessKey,
  DescribeAccessKeys,
  DisableAccessKey: byIdAction<AccessKey>('DisableAccessKey'),
  EnableAccessKey: byIdAction<AccessKey>('EnableAccessKey'),
  RotateAccessKey: byIdAction<IssuedKey>('RotateAccessKey'),
  DeleteAccessKey: byIdAction<true>('DeleteAccessKey'),
};
