--[[
  Removes the given tasks from the index (deleted or cleaned by an operator).

  Input:
    KEYS[1] mon:sum (not read through KEYS: it routes the call to the index's Cluster slot)

    ARGV[1] mon key prefix
    then the task ids

  Output:
    how many ids were given
]]
--- @include "includes/forget"
for i = 2, #ARGV do forget(ARGV[1], ARGV[i]) end
return #ARGV - 1
