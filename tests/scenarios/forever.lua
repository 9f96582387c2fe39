-- A heartbeat that never stops: only --until or --max-events end the run.
local beats = 0
sim.every("100ms", function() beats = beats + 1 end)
sim.finally(function() sim.check(beats > 0, "beats: " .. beats) end)
