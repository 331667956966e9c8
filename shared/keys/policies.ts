/**
 * Policies and the permissions operations need. Every operation declares one permission (`Operation.needs`); an
 * access key carries one policy; a request goes through only if the key's policy grants the operation's permission,
 * otherwise `AccessDenied` (403).
 *
 * The three Qianfan policy names are the ones the seeds list for the dataset API. Qianfan documents them only by a
 * sentence each, so their scope here is our reading of those sentences (the README states it):
 *
 * | policy                                | read | write (create, import, export, publish, schedules) | delete | access keys, bucket grants |
 * |---------------------------------------|------|-----------------------------------------------------|--------|----------------------------|
 * | QianfanFullControlAccessPolicy        | yes  | yes                                                 | yes    | yes                        |
 * | QianfanDataFullControlAccessPolicy    | yes  | yes                                                 | yes    | no                         |
 * | QianfanDataOperateAccessPolicy        | yes  | yes                                                 | no     | no                         |
 * | QfdataReadOnlyAccessPolicy (ours)     | yes  | no                                                  | no     | no                         |
 *
 * Creating a bucket is a write; granting one to another account (or taking the grant back) administers the
 * account, as managing its keys does.
 */

export const PERMISSIONS = ['data:Read', 'data:Write', 'data:Delete', 'keys:Manage', 'buckets:Grant'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const POLICIES = {
  /** 完全控制千帆大模型平台的权限: everything, including the account's access keys. */
  QianfanFullControlAccessPolicy: ['data:Read', 'data:Write', 'data:Delete', 'keys:Manage', 'buckets:Grant'],
  /** 完全控制千帆大模型平台数据管理的权限: every dataset operation, deletion included; no access keys. */
  QianfanDataFullControlAccessPolicy: ['data:Read', 'data:Write', 'data:Delete'],
  /** 运维操作千帆大模型平台数据管理的权限: reads, creates, imports, exports and publishes; never deletes data. */
  QianfanDataOperateAccessPolicy: ['data:Read', 'data:Write'],
  /** A qfdata addition: reads only (describe, list, info, statusList, error details, export records). */
  QfdataReadOnlyAccessPolicy: ['data:Read'],
} as const satisfies Record<string, readonly Permission[]>;

export type PolicyName = keyof typeof POLICIES;
export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

/** The policy of keys created without one, and of root keys. */
export const DEFAULT_POLICY: PolicyName = 'QianfanFullControlAccessPolicy';

export function isPolicyName(name: string): name is PolicyName {
  return Object.hasOwn(POLICIES, name);
}

/** Whether `policy` grants `permission`. An unknown policy (a record written by a newer version) grants nothing. */
export function allows(policy: string, permission: Permission): boolean {
  return isPolicyName(policy) && (POLICIES[policy] as readonly Permission[]).includes(permission);
}
