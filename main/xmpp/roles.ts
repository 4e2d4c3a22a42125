/**
 * Roles travel as shared-roster groups (Prosody mod_groups): every user is a member of one
 * PUBLIC role group (`[+Physicians]` in the groups file), so the whole clinic sees each
 * other with their role; optional team groups are ordinary (members see each other only).
 * deploy/prosody/provision.sh writes the same names — keep both lists in step.
 */
import type { Role } from '../../common/contract/domain';

export const roleGroupNames: Record<Role, string> = {
  physician: 'Physicians',
  nurse: 'Nurses',
  reception: 'Reception',
  admin: 'Administration',
  staff: 'Staff',
};

/** Public group for accounts provisioned without a role: visible to all, no role shown. */
export const noRoleGroupName = 'Clinic';

const byGroup = new Map<string, Role>(Object.entries(roleGroupNames).map(([r, g]) => [g, r as Role]));

/** The role a roster item's groups announce, or null when none of them is a role group. */
export function roleFromGroups(groups: readonly string[]): Role | null {
  for (const g of groups) {
    const r = byGroup.get(g);
    if (r) return r;
  }
  return null;
}
