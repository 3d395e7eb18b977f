# Loops (is_state_visited): a root loader may loop as long as each iteration's state differs
# and the loop ends within the 1M-instruction budget; the same state reached again on the same
# path is "infinite loop detected"; a bound from a map value works once it is checked.

# case: count_up
# expect: accept
r1 = 0
l:
r1 += 1
if r1 < 10 goto l
r0 = 0
exit

# case: count_down
# expect: accept
r1 = 10
l:
r1 -= 1
if r1 != 0 goto l
r0 = 0
exit

# case: count_up_jmp32
# expect: accept
w1 = 0
l:
w1 += 3
if w1 s< 20 goto l
r0 = 0
exit

# case: nested
# expect: accept
r0 = 0
r1 = 0
outer:
r2 = 0
inner:
r0 += 1
r2 += 1
if r2 < 4 goto inner
r1 += 1
if r1 < 4 goto outer
exit

# case: loop_indexes_map_value
# map: array key=4 value=16 max=1
# expect: accept
r1 = 0
l:
r3 = map_value[0]
r3 += r1
r0 = 0
*(u8 *)(r3 +0) = r0
r1 += 1
if r1 < 16 goto l
exit

# case: loop_indexes_map_value_off_by_one
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=16 size=1
r1 = 0
l:
r3 = map_value[0]
r3 += r1
r0 = 0
*(u8 *)(r3 +0) = r0
r1 += 1
if r1 < 17 goto l
exit

# case: loop_counter_on_stack
# expect: accept
r1 = 0
*(u64 *)(r10 -8) = r1
l:
r1 = *(u64 *)(r10 -8)
r1 += 1
*(u64 *)(r10 -8) = r1
if r1 < 5 goto l
r0 = 0
exit

# case: bound_from_map_checked
# map: array key=4 value=16 max=1
# expect: accept
r6 = map_value[0]
r2 = *(u64 *)(r6 +0)
if r2 > 16 goto out
r1 = 0
l:
r1 += 1
if r1 < r2 goto l
out:
r0 = 0
exit

# case: bound_from_map_indexes
# map: array key=4 value=16 max=1
# expect: accept
r6 = map_value[0]
r2 = *(u64 *)(r6 +0)
if r2 > 16 goto out
r1 = 0
l:
if r1 >= r2 goto out
r3 = r6
r3 += r1
r0 = *(u8 *)(r3 +0)
r1 += 1
goto l
out:
r0 = 0
exit

# case: bound_from_map_indexes_off_by_one
# map: array key=4 value=16 max=1
# expect: reject invalid access to map value, value_size=16 off=16 size=1
r6 = map_value[0]
r2 = *(u64 *)(r6 +0)
if r2 > 17 goto out
r1 = 0
l:
if r1 >= r2 goto out
r3 = r6
r3 += r1
r0 = *(u8 *)(r3 +0)
r1 += 1
goto l
out:
r0 = 0
exit

# case: goto_self
# expect: reject infinite loop detected at insn 1
r0 = 0
goto -1

# case: no_progress
# expect: reject infinite loop detected at insn 1
r1 = 0
l:
if r1 > 5 goto out
goto l
out:
r0 = 0
exit

# case: unknown_condition_no_progress
# expect: reject infinite loop detected at insn 1
r6 = *(u64 *)(r1 +0)
l:
if r6 == 0 goto out
goto l
out:
r0 = 0
exit

# case: unknown_counter_no_progress
# expect: reject infinite loop detected at insn
r6 = *(u64 *)(r1 +0)
l:
r6 += 1
if r6 == 100 goto out
goto l
out:
r0 = 0
exit

# case: counter_never_converges
# expect: reject BPF program is too large. Processed 1000001 insn
r1 = 0
l:
r1 += 1
goto l
