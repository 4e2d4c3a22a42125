-- Clinic Messenger: care-team rooms keep the clinic's room policy (issue 18).
--
-- Loaded on the MUC component (prosody.cfg.lua). The component's defaults make every new room
-- members-only, non-anonymous (whois = anyone), persistent, unlisted and without member invites;
-- Prosody 0.12 itself only stops non-admins from changing "public" and "persistent"
-- (muc_room_allow_public / muc_room_allow_persistent). This module refuses, for everybody
-- including the server's admins, any room configuration form that would weaken one of them:
-- the whole form is refused with <not-allowed/>, nothing of it is applied.
--
-- Clients rely on it: a member accepts a room message only from an occupant whose real JID it can
-- see (non-anonymous) and who is on the member list (members-only) — see docs/protocol.md.

local st = require "util.stanza";

local function truthy(value)
	return value == "1" or value == "true";
end

-- Field → does the submitted value keep the policy?
local keeps = {
	["muc#roomconfig_membersonly"] = function(v) return truthy(v); end;
	["muc#roomconfig_whois"] = function(v) return v == "anyone"; end;
	["muc#roomconfig_publicroom"] = function(v) return not truthy(v); end;
	["muc#roomconfig_persistentroom"] = function(v) return truthy(v); end;
	["{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites"] = function(v) return not truthy(v); end;
	["muc#roomconfig_enablearchiving"] = function(v) return truthy(v); end;
};

local function weakened_field(form)
	for field in form:childtags("field") do
		local check = keeps[field.attr.var];
		if check and not check(field:get_child_text("value")) then
			return field.attr.var;
		end
	end
	return nil;
end

-- Before mod_muc's own handler (priority 0): a refused form never reaches the room.
module:hook("iq-set/bare/http://jabber.org/protocol/muc#owner:query", function(event)
	local stanza = event.stanza;
	local form = stanza.tags[1]:get_child("x", "jabber:x:data");
	if not form or form.attr.type ~= "submit" then return; end
	local field = weakened_field(form);
	if not field then return; end
	module:log("warn", "Refused a configuration of %s that would change %s (clinic room policy)", stanza.attr.to, field);
	event.origin.send(st.error_reply(stanza, "cancel", "not-allowed",
		"Clinic policy: care-team rooms stay members-only, non-anonymous, persistent, unlisted and archived"));
	return true;
end, 10);

-- Announcement rooms (issue 18 §4): only the room's owners post. A room setting of its own, in the
-- configuration form as {urn:clinic-messenger:rooms}roomconfig_announcement (boolean), kept with the
-- room, advertised in disco#info as the feature urn:clinic-messenger:rooms:announcement, and
-- announced to the occupants with status 104 when it changes. XEP-0045's "moderated" is not used:
-- in a moderated room Prosody makes only occupants without an affiliation visitors, never members.
-- In such a room a groupchat message from an occupant whose affiliation is not "owner" is refused
-- (<forbidden/>), unless it carries nothing but chat markers or chat states (a read marker is not a
-- post). Server admins are owners of every room (component_admins_as_room_owners); the clients
-- still refuse their messages, since they are on no room's member list.
local ANNOUNCEMENT_FIELD = "{urn:clinic-messenger:rooms}roomconfig_announcement";
local ANNOUNCEMENT_FEATURE = "urn:clinic-messenger:rooms:announcement";
local NOT_A_POST = {
	["urn:xmpp:chat-markers:0"] = true;
	["http://jabber.org/protocol/chatstates"] = true;
	["urn:xmpp:hints"] = true;
	["urn:xmpp:sid:0"] = true;
};

module:hook("muc-config-form", function(event)
	table.insert(event.form, {
		name = ANNOUNCEMENT_FIELD;
		type = "boolean";
		label = "Announcement room (only owners post)";
		value = event.room._data.clinic_announcement == true;
	});
end, 80-10);

module:hook("muc-config-submitted/"..ANNOUNCEMENT_FIELD, function(event)
	local value = event.value and true or nil;
	if event.room._data.clinic_announcement ~= value then
		event.room._data.clinic_announcement = value;
		event.status_codes["104"] = true;
	end
end);

module:hook("muc-disco#info", function(event)
	if event.room._data.clinic_announcement then
		event.reply:tag("feature", { var = ANNOUNCEMENT_FEATURE }):up();
	end
end);

local bare_of = require "util.jid".bare;

local function is_post(stanza)
	for _, child in ipairs(stanza.tags) do
		if not NOT_A_POST[child.attr.xmlns] then return true; end
	end
	return false;
end

-- After mod_muc's role check (50), before the subject change (20) and the broadcast and archive.
module:hook("muc-occupant-groupchat", function(event)
	local room = event.room;
	if not room._data.clinic_announcement then return; end
	if room:get_affiliation(bare_of(event.from)) == "owner" or not is_post(event.stanza) then return; end
	event.origin.send(st.error_reply(event.stanza, "auth", "forbidden",
		"Clinic policy: only the room's owners post in this announcement room"));
	return true;
end, 40);

-- The room's affiliation list is its member list: who may join and whose key every message is
-- encrypted to. The server's admins (IT) create rooms and, through Prosody's
-- component_admins_as_room_owners, own every room anyway; they must not appear on the list as
-- the creator would (mod_muc stores the creator as owner at priority -1, and refuses to demote an
-- admin afterwards). So an admin's creator entry is dropped right after mod_muc stored it.
local jid_bare = require "util.jid".bare;
local is_admin = require "core.usermanager".is_admin;

module:hook("muc-room-pre-create", function(event)
	local creator = jid_bare(event.stanza.attr.from);
	if is_admin(creator, module.host) then
		event.room._affiliations[creator] = nil;
	end
end, -2);

-- Which rooms am I on the member list of? (issue 18) The rooms are unlisted, so the service's
-- plain disco#items shows none of them; a workstation asks the service for this node instead and
-- gets the rooms whose stored affiliation list names the requester as owner, admin or member
-- (never the server admins' implicit ownership, never a destroyed room's tombstone). It joins
-- those at every sign-in (docs/protocol.md "Care-team rooms").
local MY_ROOMS_NODE = "urn:clinic-messenger:rooms:member";
local mod_muc = module:depends("muc");

module:hook("iq-get/host/http://jabber.org/protocol/disco#items:query", function(event)
	local stanza = event.stanza;
	if stanza.tags[1].attr.node ~= MY_ROOMS_NODE then return; end
	local who = jid_bare(stanza.attr.from);
	local reply = st.reply(stanza):query("http://jabber.org/protocol/disco#items", { node = MY_ROOMS_NODE });
	for room in mod_muc.all_rooms() do
		local affiliation = room._affiliations[who];
		if not room._data.destroyed and (affiliation == "owner" or affiliation == "admin" or affiliation == "member") then
			reply:tag("item", { jid = room.jid, name = room:get_name() }):up();
		end
	end
	event.origin.send(reply);
	return true;
end, 10);

-- Every room of the service, for the server's admins only (clinic-admin rooms list / sync): the
-- rooms are unlisted, and an admin is on no room's list, so neither plain disco#items nor the node
-- above shows them to IT. Anyone else is refused. Each item carries the room's name.
local ALL_ROOMS_NODE = "urn:clinic-messenger:rooms:all";

module:hook("iq-get/host/http://jabber.org/protocol/disco#items:query", function(event)
	local stanza = event.stanza;
	if stanza.tags[1].attr.node ~= ALL_ROOMS_NODE then return; end
	if not is_admin(jid_bare(stanza.attr.from), module.host) then
		event.origin.send(st.error_reply(stanza, "auth", "forbidden", "Only the server's admins list every room"));
		return true;
	end
	local reply = st.reply(stanza):query("http://jabber.org/protocol/disco#items", { node = ALL_ROOMS_NODE });
	for room in mod_muc.all_rooms() do
		if not room._data.destroyed then
			reply:tag("item", { jid = room.jid, name = room:get_name() }):up();
		end
	end
	event.origin.send(reply);
	return true;
end, 10);

-- Tell an account at once that it was put on a room's list or taken off it (clinic-admin rooms,
-- an owner): a headline from the room's bare JID to the account's bare JID, which reaches every
-- signed-in workstation and is neither stored offline nor archived. A workstation takes it only as
-- a cue to ask the node above again (main/xmpp/room-list-notice.ts); what it joins is what that
-- answer lists, never what the notice says. One that is signed out asks at its next sign-in anyway.
local ROOM_LIST_NOTICE_NS = "urn:clinic-messenger:rooms:0";
local ON_LIST = { owner = true; admin = true; member = true };

module:hook("muc-set-affiliation", function(event)
	if (ON_LIST[event.affiliation] or false) == (ON_LIST[event.previous_affiliation] or false) then return; end
	module:send(st.message({ from = event.room.jid, to = jid_bare(event.jid), type = "headline" })
		:tag("x", { xmlns = ROOM_LIST_NOTICE_NS }):up());
end);
