/**
 * The open conversation's history, oldest first, paged backwards from the store with
 * messages:page. A search result opens a window around its message (messages:around); then
 * `hasNewer` is true until paging down reaches the newest row, and live messages wait for it. Big arrays live in $state.raw and are replaced, never mutated in place.
 * PHI: dropped on lock (the conversation id is kept so unlock returns to the same place).
 *
 * Read (issue 12 §1): MessageList reports the newest message on screen (`shown`) and whether the
 * reader is at the newest row (`following`); view.svelte.ts turns that into conversations:view and
 * conversations:markRead. Messages stored by catch-up reach the open conversation through
 * refreshTail() (catch-up announces conversations, not each message).
 */
import type { Message } from '../../../../common/ipc-contract';
import type { MentionRange } from '../../../../common/mentions';
import type { IpcError } from '../../../../common/result';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';

export const PAGE_SIZE = 200;

/**
 * Display order: the sender's time at second precision (OX <time/> stamps carry whole seconds,
 * XEP-0082), then arrival order (store row id), so a reply never sorts above the message it
 * answers when both fall in the same second.
 */
function byTime(a: Message, b: Message): number {
  const s = Math.floor(a.sentAt / 1000) - Math.floor(b.sentAt / 1000);
  if (s !== 0) return s;
  const ia = Number(a.id);
  const ib = Number(b.id);
  if (Number.isFinite(ia) && Number.isFinite(ib)) return ia - ib;
  return a.sentAt - b.sentAt;
}

class MessagesState {
  conversationId = $state<string | null>(null);
  items = $state.raw<Message[]>([]);
  olderCursor = $state<string | null>(null);
  hasOlder = $state(false);
  /** History beyond the newest held row exists (after a jump to an older message). */
  hasNewer = $state(false);
  /** The message to scroll to, highlight and focus; `seq` makes a repeat jump to it count. */
  target = $state<{ id: string; seq: number } | null>(null);
  loading = $state(false);
  sendError = $state<IpcError | null>(null);
  /** Bumped when new messages are appended at the end (the list scrolls down if it was there). */
  appended = $state(0);
  /** The newest message on screen (MessageList), or null. */
  shown = $state.raw<Message | null>(null);
  /** The reader is at the newest row of the conversation (no newer history, scrolled to the end); MessageList's. */
  following = $state(false);
  /** The message the composer answers (XEP-0461 reply, issue 12 §6), or null. */
  replyingTo = $state.raw<Message | null>(null);
  /** The first message unread when the conversation opened, or marked unread since: the divider's place. */
  firstUnread = $state<string | null>(null);
  /** Bumped by each Reply action, so the composer takes focus even for the same message again. */
  replySeq = $state(0);
  /** The composer's Urgent toggle (issue 12 §7): marks the next message sent, then turns off. */
  urgent = $state(false);
  /** Our own message being edited in place (issue 12 §6), or null; one at a time. */
  editing = $state<string | null>(null);
  /** Why the last edit or delete for everyone was refused (shown by that message), or null. */
  changeError = $state<{ messageId: string; error: IpcError } | null>(null);
  /** The newest message main was told was seen (markSeen), so it is told once. */
  private readThrough: Message | null = null;
  /** A catch-up changed this conversation while a page was loading: look again afterwards. */
  private tailStale = false;
  private epoch = 0;
  private jumps = 0;

  constructor() {
    registerPhiReset(() => this.reset());
  }

  reset(): void {
    this.epoch += 1;
    this.items = [];
    this.olderCursor = null;
    this.hasOlder = false;
    this.hasNewer = false;
    this.target = null;
    this.loading = false;
    this.sendError = null;
    this.replyingTo = null;
    this.firstUnread = null;
    this.urgent = false;
    this.editing = null;
    this.changeError = null;
    // `following` stays: the list reports it when its scroll state changes, not per load.
    this.shown = null;
    this.readThrough = null;
    this.tailStale = false;
  }

  async show(conversationId: string): Promise<void> {
    this.reset();
    this.conversationId = conversationId;
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().messages.page({ conversationId, before: null, limit: PAGE_SIZE });
    if (epoch !== this.epoch) return;
    this.loading = false;
    if (!r.ok) return;
    this.items = [...r.value.items].sort(byTime);
    this.olderCursor = r.value.nextCursor;
    this.hasOlder = r.value.nextCursor !== null;
    // Fixed for this visit (issue 12 §6): reading them does not move the divider away.
    this.firstUnread =
      this.items.find((m) => m.direction === 'in' && m.readAt === null && m.state !== 'unverified')?.id ?? null;
    this.appended += 1;
    if (this.tailStale) await this.refreshTail();
  }

  /** Scrolls to the "New messages" divider's message (the search jump's machinery). */
  jumpToFirstUnread(): void {
    if (this.firstUnread) this.target = { id: this.firstUnread, seq: ++this.jumps };
  }

  /**
   * "Mark as unread" from a received message on (issue 12 §6). Main sends no marker. What is on
   * screen now counts as reported, so it is not marked read again until the conversation is
   * opened anew.
   */
  async markUnread(m: Message): Promise<boolean> {
    const conversationId = this.conversationId;
    if (!conversationId || m.direction !== 'in') return false;
    const r = await clinic().conversations.markUnread({ conversationId, from: m.id });
    if (!r.ok) return false;
    this.firstUnread = m.id;
    this.readThrough = this.items[this.items.length - 1] ?? null;
    return true;
  }

  /**
   * Whether the store holds messages of the open conversation this list has not heard of, judged
   * from its inbox row: a newest message not held, or more unread than held unread. Catch-up
   * announces conversations, not messages, and an archived message can sort above the newest held
   * one (the archive stamps whole seconds), so the newest id alone does not tell.
   */
  lacks(row: { id: string; lastMessage: { id: string } | null; unread: number }): boolean {
    if (row.id !== this.conversationId) return false;
    if (row.lastMessage && !this.items.some((m) => m.id === row.lastMessage?.id)) return true;
    const held = this.items.filter((m) => m.direction === 'in' && m.readAt === null && m.state !== 'unverified');
    return row.unread > held.length;
  }

  /**
   * The conversation changed in the store without a per-message event (catch-up stored a page):
   * load the rows around the newest held one, so the open conversation shows what was stored.
   * With a window in the past (`hasNewer`), paging down brings them anyway.
   */
  async refreshTail(): Promise<void> {
    const conversationId = this.conversationId;
    if (!conversationId || this.hasNewer) return;
    if (this.loading) {
      this.tailStale = true;
      return;
    }
    this.tailStale = false;
    const newest = this.items[this.items.length - 1];
    if (!newest) {
      await this.show(conversationId);
      return;
    }
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().messages.around({ conversationId, messageId: newest.id, limit: PAGE_SIZE });
    if (epoch !== this.epoch) return;
    this.loading = false;
    if (!r.ok) return;
    // Held rows are replaced by the store's (their read state may have changed too); new ones join.
    const fresh = new Map(r.value.items.map((m) => [m.id, m]));
    const held = this.items.map((m) => fresh.get(m.id) ?? m);
    const heldIds = new Set(held.map((m) => m.id));
    const added = r.value.items.filter((m) => !heldIds.has(m.id));
    this.items = [...held, ...added].sort(byTime);
    if (added.length > 0) this.appended += 1;
    this.hasNewer = r.value.hasNewer;
    if (this.tailStale) await this.refreshTail();
  }

  /**
   * Whether something main still counts as unread is on screen: an inbound, verified message at or
   * before `shown` that is not read and was not reported yet.
   */
  hasUnseen(): boolean {
    const shown = this.shown;
    if (!shown) return false;
    const through = this.readThrough;
    return this.items.some(
      (m) =>
        m.direction === 'in' &&
        m.readAt === null &&
        m.state !== 'unverified' &&
        byTime(m, shown) <= 0 &&
        (through === null || byTime(m, through) > 0),
    );
  }

  /** Tells main the person saw the conversation up to `shown` (conversations:markRead). */
  async markSeen(): Promise<void> {
    const conversationId = this.conversationId;
    const upTo = this.shown;
    if (!conversationId || !upTo) return;
    const before = this.readThrough;
    this.readThrough = upTo;
    const r = await clinic().conversations.markRead({ conversationId, upTo: upTo.id });
    // Not told (locked meanwhile, gone): the next time it is on screen asks again.
    if (!r.ok && this.readThrough === upTo) this.readThrough = before;
  }

  /** Opens a conversation scrolled to one of its messages (a search result). */
  async showAround(conversationId: string, messageId: string): Promise<void> {
    const seq = ++this.jumps; // never reused: the list remembers the last seq it handled
    this.reset();
    this.conversationId = conversationId;
    this.target = { id: messageId, seq }; // set before any await: the view sees a jump is coming
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().messages.around({ conversationId, messageId, limit: PAGE_SIZE });
    if (epoch !== this.epoch) return;
    this.loading = false;
    if (!r.ok) {
      // Gone since the search (or never ours): open the conversation at its newest messages.
      await this.show(conversationId);
      return;
    }
    this.items = [...r.value.items].sort(byTime);
    this.olderCursor = r.value.nextCursor;
    this.hasOlder = r.value.nextCursor !== null;
    this.hasNewer = r.value.hasNewer;
  }

  /** After a jump: the next rows above the newest held one. Returns how many were appended. */
  async loadNewer(): Promise<number> {
    const newest = this.items[this.items.length - 1];
    if (!this.conversationId || !this.hasNewer || !newest || this.loading) return 0;
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().messages.around({
      conversationId: this.conversationId,
      messageId: newest.id,
      limit: PAGE_SIZE,
    });
    if (epoch !== this.epoch) return 0;
    this.loading = false;
    if (!r.ok) return 0;
    const seen = new Set(this.items.map((m) => m.id));
    const newer = r.value.items.filter((m) => !seen.has(m.id)).sort(byTime);
    this.items = [...this.items, ...newer].sort(byTime);
    this.hasNewer = r.value.hasNewer;
    return newer.length;
  }

  /** Returns how many messages were prepended. */
  async loadOlder(): Promise<number> {
    if (!this.conversationId || !this.olderCursor || this.loading) return 0;
    const epoch = this.epoch;
    this.loading = true;
    const r = await clinic().messages.page({
      conversationId: this.conversationId,
      before: this.olderCursor,
      limit: PAGE_SIZE,
    });
    if (epoch !== this.epoch) return 0;
    this.loading = false;
    if (!r.ok) return 0;
    const seen = new Set(this.items.map((m) => m.id));
    const older = r.value.items.filter((m) => !seen.has(m.id)).sort(byTime);
    this.items = [...older, ...this.items];
    this.olderCursor = r.value.nextCursor;
    this.hasOlder = r.value.nextCursor !== null;
    return older.length;
  }

  /** A message arrived or changed state (message:added / message:updated). */
  apply(m: Message): void {
    if (m.conversationId !== this.conversationId) return;
    const i = this.items.findIndex((x) => x.id === m.id);
    if (i >= 0) {
      const next = this.items.slice();
      next[i] = m;
      this.items = next;
      return;
    }
    // Rows between the window and the newest are not loaded yet: paging down brings this one.
    if (this.hasNewer) return;
    const last = this.items[this.items.length - 1];
    if (!last || byTime(last, m) <= 0) {
      this.items = [...this.items, m];
    } else {
      this.items = [...this.items, m].sort(byTime);
    }
    this.appended += 1;
  }

  /** `mentions`: @mentions of a care-team room's members in `body` (issue 18 §4; main keeps members' only). */
  async send(body: string, mentions: MentionRange[] = []): Promise<boolean> {
    if (!this.conversationId) return false;
    this.sendError = null;
    const replyTo = this.replyingTo?.id;
    const r = await clinic().messages.send({
      conversationId: this.conversationId,
      body,
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(this.urgent ? { urgent: true } : {}),
      ...(mentions.length ? { mentions } : {}),
    });
    if (!r.ok) {
      this.sendError = r.error;
      return false;
    }
    await this.sent(r.value, replyTo);
    return true;
  }

  /** A message main accepted from the composer (messages:send, or attachments:send with a file). */
  async sent(m: Message, replyTo: string | undefined): Promise<void> {
    // Urgent is for one message, not a mode (issue 12 §7).
    this.urgent = false;
    if (this.replyingTo?.id === replyTo) this.replyingTo = null;
    // Sent from a window in the past: show the latest history, where the new message is.
    if (this.hasNewer && this.conversationId) await this.show(this.conversationId);
    else this.apply(m);
  }

  /** Reply to `m` (issue 12 §6): the composer shows the quote; `replySeq` asks it to take focus. */
  startReply(m: Message): void {
    this.replyingTo = m;
    this.replySeq += 1;
  }

  cancelReply(): void {
    this.replyingTo = null;
  }

  /** Edit our own sent message in place (issue 12 §6): its row becomes an editor. */
  startEdit(m: Message): void {
    this.editing = m.id;
    this.changeError = null;
  }

  cancelEdit(): void {
    this.editing = null;
    this.changeError = null;
  }

  /**
   * Sends the new text for everyone (XEP-0308); the row shows it, marked edited. A refusal
   * (offline, key changed) keeps the editor open with the text and says why; nothing changed.
   */
  async saveEdit(m: Message, body: string): Promise<boolean> {
    const r = await clinic().messages.edit({ messageId: m.id, body });
    if (!r.ok) {
      this.changeError = { messageId: m.id, error: r.error };
      return false;
    }
    if (this.editing === m.id) this.editing = null;
    this.changeError = null;
    this.apply(r.value);
    return true;
  }

  /** Deletes our own sent message for everyone (XEP-0424); the row then says it was deleted. */
  async deleteForEveryone(m: Message): Promise<boolean> {
    const r = await clinic().messages.delete({ messageId: m.id });
    if (!r.ok) {
      this.changeError = { messageId: m.id, error: r.error };
      return false;
    }
    this.changeError = null;
    if (this.editing === m.id) this.editing = null;
    if (this.replyingTo?.id === m.id) this.replyingTo = null;
    this.apply(r.value);
    return true;
  }

  async retry(messageId: string): Promise<void> {
    const r = await clinic().messages.retry({ messageId });
    if (r.ok) this.apply(r.value);
    else this.sendError = r.error;
  }
}

export const messages = new MessagesState();
