# Kfunc references (KF_ACQUIRE / KF_RELEASE / KF_RET_NULL, bpf_task_from_pid and
# bpf_task_release): an acquired pointer is null-checked, released once on every path, and
# not used after its release.

# case: acquire_check_release
# expect: accept
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
r1 = r0
call bpf_task_release
out:
r0 = 0
exit

# case: leaked
# expect: reject Unreleased reference id=
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
r6 = r0
out:
r0 = 0
exit

# case: release_without_null_check
# expect: reject Possibly NULL pointer passed to trusted arg0
r1 = 1
call bpf_task_from_pid
r1 = r0
call bpf_task_release
r0 = 0
exit

# case: double_release
# expect: reject arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
r6 = r0
r1 = r0
call bpf_task_release
r1 = r6
call bpf_task_release
out:
r0 = 0
exit

# case: release_a_scalar
# expect: reject arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar
r1 = 5
call bpf_task_release
r0 = 0
exit

# case: acquire_twice_release_both
# expect: accept
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
r6 = r0
r1 = r0
call bpf_task_acquire
if r0 == 0 goto release_first
r1 = r0
call bpf_task_release
release_first:
r1 = r6
call bpf_task_release
out:
r0 = 0
exit

# case: released_on_one_path_only
# expect: reject Unreleased reference
r6 = *(u32 *)(r1 +0)
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
if r6 == 0 goto out
r1 = r0
call bpf_task_release
out:
r0 = 0
exit

# case: reference_spilled_and_filled
# expect: accept
r1 = 1
call bpf_task_from_pid
if r0 == 0 goto out
*(u64 *)(r10 -8) = r0
r1 = *(u64 *)(r10 -8)
call bpf_task_release
out:
r0 = 0
exit

# case: pid_is_not_a_pointer
# expect: reject R1 is not a scalar
r1 = r10
call bpf_task_from_pid
r0 = 0
exit
