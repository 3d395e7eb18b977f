# Control-flow rules (check_subprogs, check_cfg): every instruction reachable, jumps inside
# their subprogram and not into the second half of an ld_imm64, a subprogram's last
# instruction an exit or unconditional jump, back-edges allowed for root, calls to existing
# instructions and known helpers.

# case: straight_line
# expect: accept
r0 = 0
exit

# case: unreachable_after_exit
# expect: reject unreachable insn 2
r0 = 0
exit
r0 = 1
exit

# case: unreachable_jumped_over
# expect: reject unreachable insn 2
r0 = 0
goto +1
r0 = 1
exit

# case: jump_forward_out_of_range
# expect: reject jump out of range from insn 1 to 7
r0 = 0
if r0 == 0 goto +5
exit

# case: jump_backward_out_of_range
# expect: reject jump out of range from insn 1 to -3
r0 = 0
if r0 == 0 goto -5
exit

# case: jump_to_end
# expect: reject jump out of range from insn 1 to 3
r0 = 0
goto +1
exit

# case: jump_into_ldimm64
# expect: reject jump into the middle of ldimm64 insn 2
r0 = 0
if r0 == 0 goto +1
r1 = 0x5 ll
exit

# case: fall_off_end
# expect: reject last insn is not an exit or jmp
r0 = 0

# case: ends_with_cond_jump
# expect: reject last insn is not an exit or jmp
r0 = 0
exit
if r0 == 0 goto -2

# case: ends_with_ja
# expect: accept
r0 = 0
goto l2
l1:
exit
l2:
goto l1

# case: ends_with_gotol
# expect: accept
r0 = 0
gotol l2
l1:
exit
l2:
gotol l1

# case: two_exits
# expect: accept
r0 = *(u64 *)(r1 +0)
if r0 > 1 goto l
exit
l:
r0 = 0
exit

# case: back_edge_root
# expect: accept
r0 = 0
l:
r0 += 1
if r0 < 3 goto l
exit

# case: jump_to_next
# expect: accept
r0 = 0
goto +0
gotol +0
exit

# case: call_invalid_destination
# expect: reject call to invalid destination
call pc+10
r0 = 0
exit

# case: call_negative_destination
# expect: reject call to invalid destination
r0 = 0
call pc-5
exit

# case: call_unknown_helper
# expect: reject invalid func unknown#10000
call 10000
r0 = 0
exit

# case: call_helper
# expect: accept
call bpf_ktime_get_ns
exit

# case: jump_across_subprogs
# expect: reject jump out of range from insn 1 to 4
r0 = 0
if r0 == 0 goto +2
call f
exit
f:
r0 = 0
exit

# case: subprog_falls_off_end
# expect: reject last insn is not an exit or jmp
call f
exit
f:
r0 = 0
