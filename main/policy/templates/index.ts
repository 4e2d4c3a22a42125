/**
 * The IT policy templates (issue 14 item 1), every one generated from main/policy/schema.ts:
 * pure functions from the schema to file contents; scripts/policy-templates.ts writes them to
 * resources/policy-templates/ (`npm run policy:templates`), and a unit test proves the committed
 * copies are current.
 */
import type { z } from 'zod';
import { policySchema } from '../schema';
import { renderAdml, renderAdmx } from './admx';
import { renderJsonSchema, renderPolicyJson } from './json';
import { policyModel } from './model';
import { POLICY_DOMAIN, renderManifest, renderMobileconfig } from './plist';

export const TEMPLATES_DIR = 'resources/policy-templates';

/** File path (relative to TEMPLATES_DIR, '/'-separated) → content, sorted by path. */
export function renderPolicyTemplates(schema: z.ZodType = policySchema): Map<string, string> {
  const entries = policyModel(schema);
  const files: [string, string][] = [
    ['linux/policy.json', renderPolicyJson(schema)],
    ['linux/policy.schema.json', renderJsonSchema(entries)],
    [`macos/${POLICY_DOMAIN}.mobileconfig`, renderMobileconfig(entries)],
    [`macos/${POLICY_DOMAIN}.plist`, renderManifest(entries)],
    ['windows/ClinicMessenger.admx', renderAdmx(entries)],
    ['windows/en-US/ClinicMessenger.adml', renderAdml(entries)],
  ];
  return new Map(files.sort(([a], [b]) => (a < b ? -1 : 1)));
}
