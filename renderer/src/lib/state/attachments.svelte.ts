/**
 * The open conversation's attachments (issue 16): rows from attachments:list, kept current by
 * 'attachment:updated' and 'attachment:progress', the file being sent, downloads, and image
 * previews. A preview is the bytes main checked (attachments:read: PNG, JPEG or WebP whose content
 * is that type) as a Blob URL of this page (CSP img-src blob:); the URLs are revoked when the
 * conversation closes or the app locks. Names are PHI: dropped on lock.
 *
 * Received rows are written in their message's transaction without an event, so the list is read
 * again whenever the conversation holds a message it has not listed yet (`sync`).
 */
import type { Attachment } from '../../../../common/contract/domain';
import type { MentionRange } from '../../../../common/mentions';
import type { IpcError, Result } from '../../../../common/result';
import { clinic } from '../clinic';
import { registerPhiReset } from '../phi';
import { messages } from './messages.svelte';

/** Shown as a thumbnail (attachments:read answers only these, and PDFs). */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);
export const isPreviewableImage = (a: Attachment): boolean => IMAGE_TYPES.has(a.mediaType);

/** A file picked, pasted or dropped into the composer, not sent yet. */
export interface ChosenFile {
  name: string;
  mediaType: string;
  size: number;
  read: () => Promise<Uint8Array<ArrayBuffer>>;
}

export function chosenFrom(file: File, name = file.name): ChosenFile {
  return {
    name: name || 'file',
    mediaType: file.type || 'application/octet-stream',
    size: file.size,
    read: async () => new Uint8Array(await file.arrayBuffer()),
  };
}

class AttachmentsState {
  conversationId = $state<string | null>(null);
  items = $state.raw<Attachment[]>([]);
  /** Bytes moved by an upload or download under way, by attachment id. */
  progress = $state.raw<Record<string, { done: number; total: number }>>({});
  /** attachment id → blob: URL of its checked image. */
  previews = $state.raw<Record<string, string>>({});
  /** attachment id → blob: URL of the sender's thumbnail (re-encoded by main), for a file not downloaded. */
  thumbs = $state.raw<Record<string, string>>({});
  /** Why a preview or a download was refused, by attachment id. */
  errors = $state.raw<Record<string, IpcError>>({});
  /** Why the last file was not sent (policy: FORBIDDEN / TOO_LARGE), or null. */
  sendError = $state<IpcError | null>(null);
  /** The image open in the full-size viewer (AttachmentViewer), or null. */
  viewing = $state<string | null>(null);
  /** Attachment ids saved by "Save as…" this time the conversation was open (the card says so). */
  saved = $state.raw<Record<string, true>>({});
  /** Attachment ids handed to another app this time the conversation was open (the card says so). */
  openedElsewhere = $state.raw<Record<string, true>>({});
  /** The message ids the last list covered (a message beyond them asks for the list again). */
  private listed = new Set<string>();
  /** Rows changed by an event while a list was on its way: the event's version wins. */
  private touched = new Set<string>();
  private loadingPreview = new Set<string>();
  /** Sender's thumbnails main refused (damaged or hostile): not asked for again. */
  private thumbRefused = new Set<string>();
  private refreshing: Promise<void> | null = null;
  private stale = false;
  private epoch = 0;

  constructor() {
    registerPhiReset(() => this.reset());
  }

  reset(): void {
    this.epoch += 1;
    for (const url of [...Object.values(this.previews), ...Object.values(this.thumbs)]) URL.revokeObjectURL(url);
    this.conversationId = null;
    this.items = [];
    this.progress = {};
    this.previews = {};
    this.thumbs = {};
    this.errors = {};
    this.sendError = null;
    this.viewing = null;
    this.saved = {};
    this.openedElsewhere = {};
    this.listed = new Set();
    this.touched = new Set();
    this.loadingPreview = new Set();
    this.thumbRefused = new Set();
    this.refreshing = null;
    this.stale = false;
  }

  /** The conversation on screen changed (ConversationView). */
  show(conversationId: string): void {
    if (this.conversationId === conversationId) return;
    this.reset();
    this.conversationId = conversationId;
  }

  byMessage(messageId: string): Attachment | undefined {
    return this.items.find((a) => a.messageId === messageId);
  }

  /** The conversation's messages now held: lists again when one of them was not covered yet. */
  sync(held: readonly { id: string }[]): void {
    if (held.some((m) => !this.listed.has(m.id))) {
      // refresh() keeps the rows it has on a failure: it never rejects.
      void this.refresh(held.map((m) => m.id));
    }
  }

  private async refresh(ids: string[]): Promise<void> {
    for (const id of ids) this.listed.add(id);
    if (this.refreshing) {
      this.stale = true;
      return;
    }
    const conversationId = this.conversationId;
    if (!conversationId) return;
    const epoch = this.epoch;
    this.touched = new Set();
    const run = (async () => {
      const r = await clinic().attachments.list({ conversationId });
      if (epoch !== this.epoch || !r.ok) return;
      const current = new Map(this.items.map((a) => [a.id, a]));
      this.items = r.value.map((a) => (this.touched.has(a.id) ? (current.get(a.id) ?? a) : a));
    })();
    this.refreshing = run;
    await run;
    if (epoch !== this.epoch) return;
    this.refreshing = null;
    if (this.stale) {
      this.stale = false;
      await this.refresh([]);
    }
  }

  /** 'attachment:updated': a row of the open conversation changed state. */
  apply(a: Attachment): void {
    const i = this.items.findIndex((x) => x.id === a.id);
    if (i < 0 && !this.listed.has(a.messageId)) return;
    this.touched.add(a.id);
    this.items = i < 0 ? [...this.items, a] : this.items.map((x) => (x.id === a.id ? a : x));
    if (a.state !== 'uploading' && a.state !== 'downloading' && this.progress[a.id]) {
      const { [a.id]: _done, ...rest } = this.progress;
      this.progress = rest;
    }
  }

  /** 'attachment:progress'. */
  setProgress(p: { attachmentId: string; done: number; total: number }): void {
    if (!this.items.some((a) => a.id === p.attachmentId)) return;
    this.progress = { ...this.progress, [p.attachmentId]: { done: p.done, total: p.total } };
  }

  /**
   * Sends the file with the composer's text (attachments:send), as a reply and urgent when the
   * composer says so, with the text's @mentions (care-team rooms, issue 18 §4). False when
   * refused: `sendError` says why; nothing was sent.
   */
  async send(body: string, file: ChosenFile, mentions: MentionRange[] = []): Promise<boolean> {
    const conversationId = this.conversationId;
    if (!conversationId) return false;
    this.sendError = null;
    messages.sendError = null;
    let data: Uint8Array<ArrayBuffer>;
    try {
      data = await file.read();
    } catch {
      this.sendError = { code: 'BAD_INPUT', message: 'This file could not be read. Nothing was sent.' };
      return false;
    }
    const replyTo = messages.replyingTo?.id;
    const r = await clinic().attachments.send({
      conversationId,
      ...(body.trim() ? { body } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(messages.urgent ? { urgent: true } : {}),
      ...(body.trim() && mentions.length ? { mentions } : {}),
      file: { name: file.name, mediaType: file.mediaType, data },
    });
    if (!r.ok) {
      this.sendError = r.error;
      return false;
    }
    await messages.sent(r.value, replyTo);
    return true;
  }

  /** Fetches a received file into the profile (attachments:download); its card follows the events. */
  async download(attachmentId: string): Promise<void> {
    const { [attachmentId]: _old, ...rest } = this.errors;
    this.errors = rest;
    const epoch = this.epoch;
    const r = await clinic().attachments.download({ attachmentId });
    if (epoch !== this.epoch) return;
    if (r.ok) this.apply(r.value);
    else this.errors = { ...this.errors, [attachmentId]: r.error };
  }

  /**
   * Cancels the file's upload or download under way (attachments:cancel); its card follows the
   * events. A refusal is kept in `errors`, as for a download.
   */
  async cancel(attachmentId: string): Promise<void> {
    const epoch = this.epoch;
    const r = await clinic().attachments.cancel({ attachmentId });
    if (epoch !== this.epoch || r.ok) return;
    this.errors = { ...this.errors, [attachmentId]: r.error };
  }

  /** The conversation's images the viewer can show, oldest first (its arrows go through these). */
  viewable(): Attachment[] {
    return this.items.filter((a) => a.local && isPreviewableImage(a) && a.state !== 'damaged' && !this.errors[a.id]);
  }

  openViewer(attachmentId: string): void {
    this.viewing = attachmentId;
  }

  closeViewer(): void {
    this.viewing = null;
  }

  /**
   * The image re-encoded by main for the viewer, as a Blob URL the caller revokes; opening it is
   * audited in main ('attachment-opened', view 'viewer'). An IpcError when it is refused.
   */
  async viewerImage(attachmentId: string): Promise<{ url: string } | { error: IpcError }> {
    const r = await clinic().attachments.read({ attachmentId, view: 'viewer' });
    if (!r.ok) return { error: r.error };
    return { url: URL.createObjectURL(new Blob([r.value.data], { type: r.value.mediaType })) };
  }

  /**
   * "Save as…" (only offered where the policy allows export): main asks where and writes the
   * file. Null when saved or cancelled; the refusal otherwise (also kept in `errors`).
   */
  async exportFile(attachmentId: string): Promise<IpcError | null> {
    return this.fileAction(
      attachmentId,
      () => clinic().attachments.export({ attachmentId }),
      (v) => {
        if (v.saved) this.saved = { ...this.saved, [attachmentId]: true };
      },
    );
  }

  /**
   * "Open in another app" (only offered where the policy allows export, for documents and
   * pictures): main writes a copy into the profile folder and hands it to the system's app for
   * its type. Null when opened; the refusal otherwise (also kept in `errors`).
   */
  async openElsewhere(attachmentId: string): Promise<IpcError | null> {
    return this.fileAction(
      attachmentId,
      () => clinic().attachments.openExternally({ attachmentId }),
      () => {
        this.openedElsewhere = { ...this.openedElsewhere, [attachmentId]: true };
      },
    );
  }

  /**
   * Drag-out (only offered where the policy allows export): the page's own drag was cancelled;
   * main writes a copy into the profile folder and starts the system's drag with it. Null when
   * started; the refusal otherwise (also kept in `errors`).
   */
  async dragOut(attachmentId: string): Promise<IpcError | null> {
    return this.fileAction(
      attachmentId,
      () => clinic().attachments.dragOut({ attachmentId }),
      () => undefined,
    );
  }

  /**
   * An export-like action on one file: its last error cleared first, then `call`; the refusal is
   * kept in `errors` and returned, `done` runs on success. Null also when the conversation was
   * left meanwhile (the answer belongs to a view no longer shown).
   */
  private async fileAction<T>(
    attachmentId: string,
    call: () => Promise<Result<T>>,
    done: (value: T) => void,
  ): Promise<IpcError | null> {
    const { [attachmentId]: _old, ...rest } = this.errors;
    this.errors = rest;
    const epoch = this.epoch;
    const r = await call();
    if (epoch !== this.epoch) return null;
    if (!r.ok) {
      this.errors = { ...this.errors, [attachmentId]: r.error };
      return r.error;
    }
    done(r.value);
    return null;
  }

  /** Loads a stored image's checked bytes as a Blob URL, once. */
  async preview(a: Attachment): Promise<void> {
    if (!a.local || !isPreviewableImage(a) || this.previews[a.id] || this.loadingPreview.has(a.id)) return;
    if (this.errors[a.id]) return;
    this.loadingPreview.add(a.id);
    const epoch = this.epoch;
    const r = await clinic().attachments.read({ attachmentId: a.id });
    if (epoch !== this.epoch) return;
    this.loadingPreview.delete(a.id);
    if (!r.ok) {
      this.errors = { ...this.errors, [a.id]: r.error };
      return;
    }
    const blob = new Blob([r.value.data], { type: r.value.mediaType });
    this.previews = { ...this.previews, [a.id]: URL.createObjectURL(blob) };
    // The file's own preview replaces the sender's thumbnail.
    const { [a.id]: thumb, ...others } = this.thumbs;
    if (thumb) {
      URL.revokeObjectURL(thumb);
      this.thumbs = others;
    }
  }

  /**
   * Loads the sender's thumbnail of an image not downloaded yet (attachments:read, view
   * 'thumbnail': main re-encodes it) as a Blob URL, once. One that main refuses is simply not
   * shown: the card still names the file and offers the download.
   */
  async thumbnail(a: Attachment): Promise<void> {
    if (a.local || !a.hasThumbnail || this.thumbs[a.id] || this.loadingPreview.has(a.id)) return;
    if (this.thumbRefused.has(a.id)) return;
    this.loadingPreview.add(a.id);
    const epoch = this.epoch;
    const r = await clinic().attachments.read({ attachmentId: a.id, view: 'thumbnail' });
    if (epoch !== this.epoch) return;
    this.loadingPreview.delete(a.id);
    if (!r.ok) {
      this.thumbRefused.add(a.id);
      return;
    }
    if (this.previews[a.id]) return;
    const blob = new Blob([r.value.data], { type: r.value.mediaType });
    this.thumbs = { ...this.thumbs, [a.id]: URL.createObjectURL(blob) };
  }
}

export const attachments = new AttachmentsState();
