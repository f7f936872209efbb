-- Test only (tests/e2e/test_presence.py): an XMPP server with a backlog.
-- Presence from a room's occupants reaches everyone but the occupant
-- itself test_presence_lag seconds late, in order.
local st = require "util.stanza";

local lag = module:get_option_number("test_presence_lag", 0);

module:hook("muc-room-created", function (event)
	local room = event.room;
	local route = room.route_to_occupant;
	function room:route_to_occupant(occupant, stanza) -- luacheck: ignore
		if lag <= 0 or stanza.name ~= "presence" or
		    stanza.attr.from == occupant.nick then
			return route(self, occupant, stanza);
		end
		local late = st.clone(stanza);
		module:add_timer(lag, function ()
			route(self, occupant, late);
		end);
	end
end);
