/**
 * What clinic-admin needs from the clinic's XMPP server, so `provision`, `disable` and `lease` do
 * not know which server it is. prosody.ts drives Prosody 0.12 through `prosodyctl`; ejabberd.ts
 * drives ejabberd 23.01 through its HTTP API (register / check_account / change_password +
 * kick_user / srg_* / private_*); open.ts picks one from the command line. Adapters run server tools with argument arrays, never through a shell, and never
 * put a password on a command line (other users of the machine can read it in `ps`).
 */

/** One person in a directory group, with the name colleagues see. */
export interface DirectoryMember {
  jid: string;
  name: string;
}

/** A shared-roster group: a public one is seen by everyone, a team group only by its members. */
export interface DirectoryGroup {
  name: string;
  public: boolean;
  members: DirectoryMember[];
}

/**
 * A directory prepared aside: commit() puts it in place, discard() leaves the old one. Prosody's
 * is a file renamed into place; ejabberd's is applied group by group through its API at commit().
 */
export interface StagedDirectory {
  commit(): void | Promise<void>;
  discard(): void;
  /** What provision prints once it is in place: "groups file written", "directory written". */
  readonly written: string;
  /** Where it goes, and what applies it ("restart Prosody"), for the administrator. */
  readonly where: string;
  readonly applyHint: string;
}

export interface DisableOutcome {
  /** What was done to the account, in a sentence. */
  done: string;
  /** Live sessions: ended (with a count when the server says), or why not. */
  sessions: string;
  /** How the administrator undoes it. */
  undo: string;
}

export interface ServerAdmin {
  /** "Prosody (/etc/prosody/prosody.cfg.lua)", for messages. */
  readonly description: string;
  /** The domains whose accounts this server keeps. */
  readonly domains: readonly string[];
  userExists(jid: string): Promise<boolean>;
  /** Creates the account with this password; 'exists' (untouched) when it is already there. */
  createUser(jid: string, password: string): Promise<'created' | 'exists'>;
  /** Stops the account signing in; throws NoSuchAccount for an unknown one. */
  disableUser(jid: string): Promise<DisableOutcome>;
  /** Whether the account has an offline lease (issue 15 item 3) on the server; never its value. */
  hasLease(jid: string): Promise<boolean>;
  /** Removes the account's offline lease, so its workstation profiles can no longer renew it; true when there was one. */
  revokeLease(jid: string): Promise<boolean>;
  /** Prepares the whole shared-roster directory (replacing the old one) without applying it yet. */
  stageDirectory(groups: DirectoryGroup[]): Promise<StagedDirectory>;
  /** The directory as the server has it now (`clinic-admin rooms`): every group with its members. */
  readDirectory(): Promise<DirectoryGroup[]>;
  /**
   * What provision makes sure of in the server's own store, once its accounts exist (Prosody: its
   * SQLite file in WAL mode, prosody-journal.ts); what was found or done, in a line. Absent where
   * there is nothing to set (ejabberd's store is its own business).
   */
  prepareStore?(): Promise<string>;
}

/** disableUser's answer for an account the server does not have (the CLI exits 1). */
export class NoSuchAccount extends Error {
  constructor(readonly jid: string) {
    super(`no such account: ${jid}`);
    this.name = 'NoSuchAccount';
  }
}
