/**
 * What `clinic-admin rooms` needs from the clinic's care-team room service (issue 18 §1), so the
 * command does not know which server it is. prosody-rooms.ts talks XMPP to Prosody 0.12 as the
 * account in its `admins` (XEP-0045 owner and admin use, mod_muc_clinic_policy's list of every
 * room); ejabberd-rooms.ts calls ejabberd 23.01's HTTP API (mod_muc_admin). Either way the safe
 * configuration is main/xmpp/room-setup.ts's, and every room is checked against it after it is made.
 */
import type { RoomAffiliation } from '../../main/xmpp/room-setup';

export interface RoomState {
  jid: string;
  name: string | null;
  /** The room's description: `Directory group: <group>` for a room clinic-admin keeps in sync. */
  description: string | null;
  /** What the room does not keep of the safe configuration, in words ("members-only" …); empty when safe. */
  missing: string[];
  /** An announcement room: only its owners post (deploy/prosody's mod_muc_clinic_policy). */
  announcement: boolean;
}

export interface RoomService {
  /** The MUC service's domain: rooms.clinic.example. */
  readonly service: string;
  /** "rooms.clinic.example on Prosody via host:5222 as it@clinic.example", for messages. */
  readonly description: string;
  /**
   * Whether the server tells an account's signed-in workstations at once that it was put on a
   * room's list or taken off it (deploy/prosody's mod_muc_clinic_policy); otherwise they learn it
   * at their next sign-in.
   */
  readonly tellsMembers: boolean;
  /**
   * Whether it can make announcement rooms, where only the owners post (deploy/prosody's
   * mod_muc_clinic_policy); ejabberd cannot.
   */
  readonly announcements: boolean;
  /** The bare JIDs of every room of the service, sorted. */
  listRooms(): Promise<string[]>;
  /** The room's name, description and policy check; null when there is no such room. */
  room(jid: string): Promise<RoomState | null>;
  /** Owner, admin, member and outcast entries: bare JID → affiliation. */
  affiliations(jid: string): Promise<Map<string, Exclude<RoomAffiliation, 'none'>>>;
  /**
   * Creates the room with the safe configuration, and as an announcement room when asked (only
   * where `announcements`); throws RoomExists when it is already there.
   */
  create(jid: string, o: { name: string; description: string; announcement?: boolean }): Promise<void>;
  /** One entry of the room's list ('none' removes it). */
  setAffiliation(jid: string, account: string, affiliation: RoomAffiliation): Promise<void>;
  close(): Promise<void>;
}

export class RoomExists extends Error {
  constructor(readonly jid: string) {
    super(`room exists: ${jid}`);
    this.name = 'RoomExists';
  }
}
