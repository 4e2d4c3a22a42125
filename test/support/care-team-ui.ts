// The care-team room e2e files' shared setup (issue 18): a clinic whose IT account made one room
// for a receptionist, a physician and a nurse, each on their own workstation and signed up, and the
// few page moves every room test makes (the inbox row, opening the room, the composer).
import type { Page } from 'playwright-core';
import { configureRoom, createRoom, mucPerson, type MucPerson } from './muc-support';
import { startClinic, type Clinic, type Person, type Workstation } from './ui-support';

export const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

/** The main navigation's Inbox button (its badge is the unread total). */
export const inboxButton = (page: Page) => nav(page).getByRole('button', { name: /Inbox/ });

/** A room's row in the inbox, found by the room's name. */
export const roomRow = (page: Page, name: string) =>
  page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(name) });

export const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });

/** From any screen: to the inbox, then into the room named `name`. */
export async function openRoom(page: Page, name: string): Promise<void> {
  await nav(page).getByRole('button', { name: 'Inbox' }).click();
  await roomRow(page, name).click({ timeout: 45_000 });
  await page.getByRole('heading', { name, level: 2 }).waitFor();
}

type Team = { reception: Person; physician: Person; nurse: Person; it: Person };

export interface CareTeam {
  clinic: Clinic;
  /** IT's own XMPP session (the server's admin), to change the room as clinic-admin would. */
  admin: MucPerson;
  /** The room's bare JID. */
  room: string;
  people: Team;
  rec: Workstation;
  doc: Workstation;
  nur: Workstation;
  close(): Promise<void>;
}

/**
 * A clinic of the four `people` with the room `<local>@rooms` named `name`, made by IT (a server
 * admin) with the other three as its members; their workstations ('desk', 'laptop', 'ward') are
 * open and signed up, so each has found and joined the room.
 */
export async function careTeam(prefix: string, people: Team, local: string, name: string): Promise<CareTeam> {
  const { reception, physician, nurse, it } = people;
  const clinic = await startClinic(prefix, [reception, physician, nurse, it], {}, { admins: [it.jid] });
  let admin: MucPerson | undefined;
  try {
    admin = await mucPerson(clinic.prosody, it.jid, it.password);
    const room = `${local}@${clinic.prosody.rooms}`;
    await createRoom(admin, room, 'IT', [reception.jid, physician.jid, nurse.jid]);
    await configureRoom(admin, room, { 'muc#roomconfig_roomname': name });
    const rec = await clinic.open('desk');
    const doc = await clinic.open('laptop');
    const nur = await clinic.open('ward');
    await clinic.signUp(rec.page, reception);
    await clinic.signUp(doc.page, physician);
    await clinic.signUp(nur.page, nurse);
    const a = admin;
    return {
      clinic,
      admin: a,
      room,
      people,
      rec,
      doc,
      nur,
      async close() {
        await a.stop();
        await clinic.close();
      },
    };
  } catch (err) {
    await admin?.stop();
    await clinic.close();
    throw err;
  }
}
