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
