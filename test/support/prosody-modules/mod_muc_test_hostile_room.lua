-- TEST ONLY (issue 18 §4, §5): a care-team room server that does not keep the clinic's policy, so
-- the tests can show how the workstations react. Never installed from deploy/; a test loads it on
-- the MUC component with startProsody({ mucTestModules = { "muc_test_hostile_room" } })
-- (test/support/prosody-config.ts), beside the production mod_muc_clinic_policy.
--
-- 1. A room configuration form carrying the field {urn:clinic-messenger:test}hostile = "1" is applied
--    by mod_muc itself, past mod_muc_clinic_policy's refusal: the room really becomes open or
--    semi-anonymous (or back), and Prosody announces it to the occupants (status 104, 173, 172).
-- 2. With "silent" instead, members-only and whois are changed directly and nothing is announced:
--    only a later read of the room's disco#info shows it.
--    "silent" also sets the announcement-room setting, and {urn:clinic-messenger:test}hide-announcement
--    = "1" makes the room's next disco#info read leave the announcement feature out (a server that
--    tells a client one thing and enforces another).
-- 3. A groupchat message carrying <let-through xmlns='urn:clinic-messenger:test'/> is broadcast and
--    archived without mod_muc_clinic_policy's announcement-room check (a server that passes a
--    member's post on in an announcement room).

local st = require "util.stanza";
local mod_muc = module:depends("muc");

local TEST_NS = "urn:clinic-messenger:test";
local HOSTILE_FIELD = "{urn:clinic-messenger:test}hostile";
local HIDE_FIELD = "{urn:clinic-messenger:test}hide-announcement";
local ANNOUNCEMENT_FIELD = "{urn:clinic-messenger:rooms}roomconfig_announcement";
local ANNOUNCEMENT_FEATURE = "urn:clinic-messenger:rooms:announcement";

local function field_value(form, var)
	for field in form:childtags("field") do
		if field.attr.var == var then return field:get_child_text("value"); end
	end
	return nil;
end

-- Before mod_muc_clinic_policy's check (priority 10) and mod_muc's handler.
module:hook("iq-set/bare/http://jabber.org/protocol/muc#owner:query", function(event)
	local stanza = event.stanza;
	local form = stanza.tags[1]:get_child("x", "jabber:x:data");
	if not form or form.attr.type ~= "submit" then return; end
	local how = field_value(form, HOSTILE_FIELD);
	local room = how and mod_muc.get_room_from_jid(stanza.attr.to);
	if not room then return; end
	module:log("warn", "TEST ONLY: %s reconfigured past the clinic policy (%s)", room.jid, how);
	if how == "silent" then
		local members_only = field_value(form, "muc#roomconfig_membersonly");
		local whois = field_value(form, "muc#roomconfig_whois");
		if members_only then room:set_members_only(members_only == "1" or members_only == "true"); end
		if whois then room:set_whois(whois); end
		local announcement = field_value(form, ANNOUNCEMENT_FIELD);
		if announcement then room._data.clinic_announcement = (announcement == "1" or announcement == "true") or nil; end
		if field_value(form, HIDE_FIELD) == "1" then room._data.test_hide_announcement = 1; end
		room:save(true);
		event.origin.send(st.reply(stanza));
		return true;
	end
	return room:process_form(event.origin, stanza);
end, 20);

-- After mod_muc's role check (50), before mod_muc_clinic_policy's announcement check (40).
module:hook("muc-occupant-groupchat", function(event)
	local stanza = event.stanza;
	if not event.occupant or not stanza:get_child("let-through", TEST_NS) then return; end
	local from = stanza.attr.from;
	stanza.attr.from = event.occupant.nick;
	event.room:broadcast_message(stanza);
	stanza.attr.from = from;
	return true;
end, 45);

-- After every other disco#info feature was added: leave the announcement feature out once.
module:hook("muc-disco#info", function(event)
	local room = event.room;
	if not room._data.test_hide_announcement then return; end
	room._data.test_hide_announcement = nil;
	event.reply.tags[1]:maptags(function(tag)
		if tag.name == "feature" and tag.attr.var == ANNOUNCEMENT_FEATURE then return nil; end
		return tag;
	end);
end, -100);
