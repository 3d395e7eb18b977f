# RCU read sections (bpf_rcu_read_lock/unlock): balanced on every path, closed before the
# program exits.

# case: balanced_section
# expect: accept
call bpf_rcu_read_lock
call bpf_rcu_read_unlock
r0 = 0
exit

# case: unlock_without_lock
# expect: reject unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)
call bpf_rcu_read_unlock
r0 = 0
exit

# case: exit_inside_section
# expect: reject cannot be used inside bpf_rcu_read_lock-ed region
call bpf_rcu_read_lock
r0 = 0
exit

# case: unlocked_on_one_path_only
# expect: reject cannot be used inside bpf_rcu_read_lock-ed region
r6 = *(u32 *)(r1 +0)
call bpf_rcu_read_lock
if r6 == 0 goto out
call bpf_rcu_read_unlock
out:
r0 = 0
exit

# case: nested_sections
# expect: reject nested rcu read lock (kernel function bpf_rcu_read_lock)
call bpf_rcu_read_lock
call bpf_rcu_read_lock
call bpf_rcu_read_unlock
call bpf_rcu_read_unlock
r0 = 0
exit

# case: helper_call_inside_section
# expect: accept
call bpf_rcu_read_lock
call bpf_ktime_get_ns
call bpf_rcu_read_unlock
r0 = 0
exit

# case: iterator_inside_section
# expect: accept
call bpf_rcu_read_lock
r1 = r10
r1 += -8
r2 = 0
r3 = 3
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
call bpf_rcu_read_unlock
r0 = 0
exit

# case: unlock_twice
# expect: reject unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)
call bpf_rcu_read_lock
call bpf_rcu_read_unlock
call bpf_rcu_read_unlock
r0 = 0
exit

# case: reference_taken_inside_released_outside
# expect: accept
call bpf_rcu_read_lock
r1 = 1
call bpf_task_from_pid
r6 = r0
call bpf_rcu_read_unlock
if r6 == 0 goto out
r1 = r6
call bpf_task_release
out:
r0 = 0
exit

# case: section_in_subprog_balanced
# expect: accept
call sub
r0 = 0
exit
sub:
call bpf_rcu_read_lock
call bpf_rcu_read_unlock
r0 = 0
exit

# case: section_left_open_by_subprog
# expect: reject BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region
call sub
r0 = 0
exit
sub:
call bpf_rcu_read_lock
r0 = 0
exit
