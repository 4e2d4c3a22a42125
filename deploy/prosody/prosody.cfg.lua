-- Clinic Messenger — production Prosody 0.12 configuration (hardened).
--
-- One file for production AND tests: test/support/prosody.ts reads this file and
-- replaces only the lines marked "site:" (ports, paths, certificates, domain) and adds
-- test-only switches (run_as_root, lowered SCRAM iterations) — see README.md.
-- Keep every "site:" setting on ONE line so that replacement stays exact.

---------- Site settings (edit per installation) ----------
interfaces = { "*" } -- site: listen addresses
c2s_ports = { 5222 } -- site: STARTTLS client port
c2s_direct_tls_ports = { 5223 } -- site: direct TLS client port (XEP-0368)
http_ports = { } -- site: no plain HTTP
https_ports = { 5281 } -- site: HTTPS for file upload (XEP-0363)
data_path = "/var/lib/prosody" -- site: accounts, archive, offline, PEP
certificates = "certs" -- site: <host>.crt / <host>.key per host (relative to this file)
groups_file = "/etc/prosody/clinic-groups.txt" -- site: shared roster, written by provision.sh
pidfile = "/run/prosody/prosody.pid" -- site: pid file
log = { info = "/var/log/prosody/prosody.log"; error = "/var/log/prosody/prosody.err" } -- site: logs
component_ports = { 5347 } -- site: XEP-0114 component port (the patient gateway, gateway/README.md)
component_interfaces = { "127.0.0.1" } -- site: components connect from this machine only
plugin_paths = { "/etc/prosody/clinic-modules" } -- site: this folder's modules/ (mod_muc_clinic_policy.lua) copied there

---------- Security (do not loosen) ----------
admins = { } -- site: the only accounts that create care-team rooms (they own every room); none by default

-- Only client connections; server-to-server federation is off (PHI stays on this server).
modules_disabled = { "s2s"; "dialback"; "s2s_bidi" }

modules_enabled = {
	"disco"; "roster"; "saslauth"; "tls";
	"groups";      -- shared roster from groups_file: directory of colleagues
	"pep";         -- XEP-0163: OpenPGP public keys (XEP-0373)
	"carbons";     -- XEP-0280: copies to the user's other devices
	"smacks";      -- XEP-0198: stream management and resumption
	"mam";         -- XEP-0313: archive for catch-up on every device
	"offline";     -- offline storage for clients that do not query the archive
	"ping";        -- XEP-0199
	"vcard4"; "vcard_legacy";
	"private";     -- XEP-0049: the account's offline lease (docs/protocol.md), only its own sessions read it
	"blocklist"; "time"; "uptime";
	"limits";
	"posix";
}

c2s_require_encryption = true      -- no plaintext client streams
s2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed" -- SCRAM-SHA-1 with Prosody's default iteration count
allow_registration = false         -- accounts are made by IT (provision.sh), never by clients
ssl = { protocol = "tlsv1_2+" }

-- Generous enough for a burst of encrypted messages, still protects the server.
limits = { c2s = { rate = "2mb/s"; burst = "4s" } }

-- Archive: every message with a body, <store/> hint or EME is kept (PROTOCOL.md).
default_archive_policy = true
archive_expires_after = "4w"
max_archive_query_results = 250

-- Offline storage is unbounded per user (pre-0.12 limit modules are not used).
smacks_hibernation_time = 300

-- SQLite (Debian: lua-dbi-sqlite3): the archive is indexed, so catch-up pages cost the same at
-- 100 or 100,000 archived messages, and there is no 10,000-item archive quota to silently truncate.
-- Chat is many small stanzas: TCP_NODELAY, or Nagle + delayed ACK add ~40 ms to every message.
network_settings = { nagle = false }
-- Reads of 64 KiB, not 4 KiB: in Prosody 0.12's epoll loop, data left in the TLS buffer is read
-- from a timer, and the loop then sleeps as long as that read took to handle. A burst of sends
-- spent half the time asleep (deploy/prosody/README.md, "Performance notes").
network_default_read_size = 65536

storage = "sql"
sql = { driver = "SQLite3"; database = "prosody.sqlite" } -- relative to data_path
storage_archive_item_limit = 1000000

---------- Hosts ----------
VirtualHost "clinic.example"

-- XEP-0363 encrypted attachments (issue 16): only ciphertext ever reaches the server, and the app
-- asks for slots under a random name as application/octet-stream, so names and types stay off it.
Component "upload.clinic.example" "http_file_share"
	http_file_share_size_limit = 50 * 1024 * 1024 -- per file, as uploaded (the file + 16 bytes)
	http_file_share_daily_quota = 500 * 1024 * 1024 -- per account, over any 24 hours
	http_file_share_global_quota = 20 * 1024 * 1024 * 1024 -- the whole upload store on disk
	http_file_share_expires_after = 28 * 86400
	http_file_share_access = { "clinic.example" }

-- Care-team rooms (issue 18): XEP-0045 rooms with their archive (XEP-0313). A room's member list
-- (its affiliation list) is who may join and who receives a message's key; messages are end-to-end
-- encrypted by the clients, so the server sees who talks in which room, never what.
-- Every room is members-only, non-anonymous (real JIDs visible to all members), persistent,
-- unlisted and archived; mod_muc_clinic_policy (modules/) refuses any room configuration that
-- would change one of those, from anybody. Only the accounts in `admins` create rooms.
Component "rooms.clinic.example" "muc"
	name = "Care-team rooms"
	modules_enabled = { "muc_mam"; "muc_clinic_policy" }
	-- Who creates rooms: true, the server's admins only (clinic-admin rooms create). To let staff
	-- create care-team rooms from the app (policy staffMayCreateRooms, issue 18 §1), set "local":
	-- every account of this server may create one; mod_muc_clinic_policy keeps it safe and its
	-- creator its owner. The app offers it only when the policy allows it too.
	restrict_room_creation = true -- admins only
	muc_room_default_members_only = true
	muc_room_default_public_jids = true -- whois = anyone: the receive check needs the real JID
	muc_room_default_persistent = true
	muc_room_default_public = false
	muc_room_default_allow_member_invites = false -- membership is the clinic's, not the members'
	muc_room_allow_public = false
	muc_room_allow_persistent = false
	muc_log_all_rooms = true -- archiving cannot be switched off per room
	muc_log_expires_after = "4w" -- as the one-to-one archive
	muc_log_presences = false

-- The patient gateway (issue 17, gateway/README.md): an XEP-0114 component, so patients appear to
-- staff as p-…@patients.clinic.example. Its secret comes from the environment Prosody runs in
-- (systemd: EnvironmentFile=), never from this file; unset, Prosody refuses the gateway.
Component "patients.clinic.example"
component_secret = ENV_CLINIC_GATEWAY_SECRET -- site: the same value as gateway.json's xmpp.secret
