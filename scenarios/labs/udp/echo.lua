-- UDP lab, part 3 (reference): Figures 3 and 4 over a network that loses
-- 20% of datagrams. The client sets a receive timeout of 100 ms and sends
-- its request again, up to 12 times: every client gets its echo.
-- (Echoing is idempotent, so a request executed twice does no harm here;
-- the request-reply lab deals with operations where it does.)
--
--   dsim run scenarios/labs/udp/echo.lua --seed 4

require("figures").run{ timeout = 0.1, attempts = 12 }
