/**
 * Reads serverless.yml for tools (the bench, the toolchain tests), keeping CloudFormation's short tags
 * (`!GetAtt`, `!Join`, …) as plain `{ Tag: value }` objects.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const TAGS = ['GetAtt', 'Join', 'Ref', 'Sub', 'Equals', 'If', 'Select', 'Split', 'FindInMap', 'ImportValue', 'Not', 'And', 'Or'];

const schema = yaml.DEFAULT_SCHEMA.extend(
  TAGS.flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map((kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [tag]: data }) })),
  ),
);

/** The parsed document (free-form YAML, so untyped). */
export function readServerlessYml(root: string): any {
  return yaml.load(readFileSync(path.join(root, 'serverless.yml'), 'utf8'), { schema });
}

/** A function's declaration in serverless.yml. */
export interface FunctionDeclaration {
  handler: string;
  description?: string;
  events?: unknown[];
}

/**
 * The functions serverless.yml declares (its `functions` list merged), plus with `local` the local-stage-only ones
 * of serverless.local.yml.
 */
export function functionsOf(root: string, options: { local?: boolean } = {}): Record<string, FunctionDeclaration> {
  const doc = readServerlessYml(root);
  const parts: unknown[] = Array.isArray(doc.functions) ? doc.functions : [doc.functions];
  const merged: Record<string, FunctionDeclaration> = {};
  for (const part of parts) if (part && typeof part === 'object') Object.assign(merged, part);
  if (options.local) Object.assign(merged, yaml.load(readFileSync(path.join(root, 'serverless.local.yml'), 'utf8')));
  return merged;
}
