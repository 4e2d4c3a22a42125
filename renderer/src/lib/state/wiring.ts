/**
 * Connects main's events to the state singletons. One place, so the event map (contract
 * events.ts) is the only list of what can arrive.
 */
import { clinic } from '../clinic';
import { attachments } from './attachments.svelte';
import { contacts } from './contacts.svelte';
import { idleWarning } from './idle-warning.svelte';
import { conversations } from './conversations.svelte';
import { messages } from './messages.svelte';
import { patients } from './patients.svelte';
import { patientThread } from './patient-thread.svelte';
import { patientLists } from './patient-lists.svelte';
import { session } from './session.svelte';
import { settings } from './settings.svelte';
import { ui } from './ui.svelte';
import { view } from './view.svelte';

export function wireEvents(): () => void {
  const api = clinic();
  const unlocked = (): boolean => session.phase === 'unlocked';
  const offs = [
    // A new message, sent or received. One sent to the conversation in view was stored read by
    // main (view.svelte.ts told it which one): nothing to call back.
    api.on('message:added', (m) => {
      if (unlocked()) messages.apply(m);
    }),
    api.on('message:updated', (m) => {
      if (unlocked()) messages.apply(m);
    }),
    api.on('conversation:updated', (c) => {
      if (!unlocked()) return;
      conversations.upsert(c);
      // Read here or on another of the person's workstations (read sync): its toasts go.
      if (c.unread === 0) ui.dismissConversation(c.id);
      // Catch-up announces conversations, not each message: the open one loads what was stored.
      // refreshTail() keeps a failed page in state (the list stays as it is): it never rejects.
      if (messages.lacks(c)) void messages.refreshTail();
    }),
    api.on('contact:updated', (c) => {
      if (!unlocked()) return;
      contacts.upsert(c);
      // The inbox row shows the same trust as the header (issue 10 §9): keep it current.
      const conv = conversations.items.find((x) => x.peerJid === c.jid);
      if (conv && conv.trust !== c.trust) conversations.patch(conv.id, { trust: c.trust });
    }),
    api.on('presence:changed', (p) => {
      if (!unlocked()) return;
      contacts.setPresence(p.jid, p.presence, p.status ?? null);
      const conv = conversations.items.find((c) => c.peerJid === p.jid);
      if (conv) conversations.patch(conv.id, { presence: p.presence });
    }),
    api.on('notification:shown', (n) => {
      // Main already stripped PHI per policy; while locked nothing is shown (the lock screen counts).
      if (!unlocked()) return;
      if (n.conversationId !== view.conversationId)
        ui.toast({
          title: n.title,
          body: n.body,
          conversationId: n.conversationId,
          urgent: n.urgent === true,
          mention: n.mention === true,
        });
    }),
    // A file's row changed state, or its transfer moved on (issue 16): the open conversation's cards.
    api.on('attachment:updated', (a) => {
      if (unlocked()) attachments.apply(a);
    }),
    api.on('attachment:progress', (p) => {
      if (unlocked()) attachments.setProgress(p);
    }),
    api.on('patient:updated', (t) => {
      if (!unlocked()) return;
      patients.apply(t);
      // The open patient conversation (issue 17) follows; it marks what is on screen read itself.
      patientThread.apply(t);
    }),
    api.on('patient:segment', (s) => {
      if (unlocked()) patientLists.applySegment(s);
    }),
    api.on('session:idleWarning', (p) => {
      if (unlocked()) idleWarning.show(p.lockInSeconds);
    }),
    api.on('policy:changed', () => {
      // IT changed the policy while the app runs (issue 14 item 3): main applied it; show it.
      // loadPolicy keeps the last policy shown on failure: it never rejects.
      void settings.loadPolicy();
      // load() keeps the last settings on failure: it never rejects.
      if (unlocked()) void settings.load();
    }),
    api.on('ui:openConversation', (p) => {
      if (unlocked()) ui.openConversation(p.conversationId);
      else ui.conversationId = p.conversationId;
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
