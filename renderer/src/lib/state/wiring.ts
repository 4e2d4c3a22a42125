/**
 * Connects main's events to the state singletons. One place, so the event map (contract
 * events.ts) is the only list of what can arrive.
 */
import { clinic } from '../clinic';
import { contacts } from './contacts.svelte';
import { conversations } from './conversations.svelte';
import { messages } from './messages.svelte';
import { session } from './session.svelte';
import { ui } from './ui.svelte';

export function wireEvents(): () => void {
  const api = clinic();
  const unlocked = (): boolean => session.phase === 'unlocked';
  const offs = [
    api.on('message:received', (m) => {
      if (!unlocked()) return;
      messages.apply(m);
      if (m.conversationId === ui.conversationId && ui.screen === 'inbox' && document.visibilityState === 'visible') {
        void conversations.markRead(m.conversationId);
      }
    }),
    api.on('message:updated', (m) => {
      if (unlocked()) messages.apply(m);
    }),
    api.on('conversation:updated', (c) => {
      if (!unlocked()) return;
      const open = c.id === ui.conversationId && ui.screen === 'inbox' && document.visibilityState === 'visible';
      conversations.upsert(open && c.unread > 0 ? { ...c, unread: 0 } : c);
      if (open && c.unread > 0) void conversations.markRead(c.id);
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
      contacts.setPresence(p.jid, p.presence);
      const conv = conversations.items.find((c) => c.peerJid === p.jid);
      if (conv) conversations.patch(conv.id, { presence: p.presence });
    }),
    api.on('notification:shown', (n) => {
      // Main already stripped PHI per policy; while locked nothing is shown (the lock screen counts).
      if (!unlocked()) return;
      const reading = n.conversationId === ui.conversationId && ui.screen === 'inbox' && document.visibilityState === 'visible';
      if (!reading) ui.toast({ title: n.title, body: n.body, conversationId: n.conversationId });
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
