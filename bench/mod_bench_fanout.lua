-- Benchmark only (bench/README.md, scenario 4): the bridges' shared
-- account gets no presence from the other occupants of a room; everyone
-- else (the daemon's observer account) gets all of it, as in any MUC.
-- On a real fleet the N x N fan-out of a brewery is spread over Prosody's
-- own host and N bridge hosts; here one Prosody and one swarm process
-- would carry all of it on the same two cores as the daemon.
-- docker-jitsi-meet's Prosody filters the brewery the same way in
-- production (its jvb_muc_presence_filter rule).
local jid_bare = require "util.jid".bare;

local bridges = module:get_option_string("bench_bridge_account");
if not bridges then
	module:log("error", "bench_bridge_account is not set: not filtering");
	return;
end

module:hook("muc-room-created", function (event)
	local room = event.room;
	local route = room.route_to_occupant;
	function room:route_to_occupant(occupant, stanza) -- luacheck: ignore
		if stanza.name == "presence" and occupant.bare_jid == bridges
		    and stanza.attr.from ~= occupant.nick then
			return;
		end
		return route(self, occupant, stanza);
	end
end);

module:log("info", "presence to %s: only its own", jid_bare(bridges));
