-- UDP lab, naive variant: Figures 3 and 4 exactly as printed. The client's
-- receive has no timeout, so when the network loses its request or the
-- server's reply (20% of datagrams are lost) it blocks for ever. The check
-- "udp echo: every client got its reply" fails, and the run's summary lists
-- the clients still blocked in recvFromAny.
--
--   dsim run scenarios/labs/udp/naive_echo.lua --seed 1

require("figures").run{ timeout = 0, attempts = 1 }
