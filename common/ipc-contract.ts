/**
 * The IPC contract: every request channel and every main → renderer event, with zod schemas.
 * ARCHITECTURE.md §3. Domain files live in common/contract/; this file is the single entry point.
 */
import type { z } from 'zod';
import { channels, type ChannelName, type Channels } from './contract/channels';
import { events, type EventName, type EventPayload, type Events } from './contract/events';
import { CHANNEL_NAMES, EVENT_NAMES, EVENT_TRANSPORT_CHANNEL } from './contract/names';

export { channels, events };
export type { ChannelName, Channels, EventName, EventPayload, Events };
export * from './contract/domain';

export type ChannelInput<C extends ChannelName> = z.input<Channels[C]['input']>;
export type ChannelParsedInput<C extends ChannelName> = z.output<Channels[C]['input']>;
export type ChannelOutput<C extends ChannelName> = z.output<Channels[C]['output']>;

export const channelNames = Object.keys(channels) as ChannelName[];
export const eventNames = Object.keys(events) as EventName[];

export const isChannelName = (name: unknown): name is ChannelName =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
export const isEventName = (name: unknown): name is EventName =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);

export { CHANNEL_NAMES, EVENT_NAMES, EVENT_TRANSPORT_CHANNEL };

// The schema-free name lists (./contract/names.ts) must name exactly the channels and events
// defined here: a name missing on either side is a compile error.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const channelNamesMatch: Same<(typeof CHANNEL_NAMES)[number], ChannelName> = true;
const eventNamesMatch: Same<(typeof EVENT_NAMES)[number], EventName> = true;
void channelNamesMatch;
void eventNamesMatch;
