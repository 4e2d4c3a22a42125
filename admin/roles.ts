/**
 * The directory's group names, one PUBLIC group per role (Prosody mod_groups `[+Physicians]`, an
 * ejabberd shared-roster group displayed to all). The app reads each person's role back from these
 * names (main/xmpp/roles.ts). admin/ may not import main/xmpp/ (the layering rule, eslint.config.js),
 * so the names are repeated here; test/unit/admin-roles.test.ts fails when the two lists differ.
 */
import type { Role } from '../common/contract/domain';

export const ROLE_GROUPS: Readonly<Record<Role, string>> = {
  physician: 'Physicians',
  nurse: 'Nurses',
  reception: 'Reception',
  admin: 'Administration',
  staff: 'Staff',
};

/** Public group for accounts without a role: visible to all, no role shown. */
export const NO_ROLE_GROUP = 'Clinic';

export const ROLES = Object.keys(ROLE_GROUPS) as Role[];

export const isRole = (text: string): text is Role => Object.hasOwn(ROLE_GROUPS, text);
