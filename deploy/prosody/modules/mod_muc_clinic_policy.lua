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
