# Open-coded iterators (bpf_iter_num_new/next/destroy, the kfunc triple behind bpf_for()):
# KF_ITER_NEW wants uninitialized stack slots, next and destroy an initialized iterator, the
# iterator is a reference destroy releases, and a loop over next() converges without a bound
# on its body.

# case: for_loop_sums_elements
# expect: accept
r6 = 0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r1 = *(u32 *)(r0 +0)
r6 += r1
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
exit

# case: next_result_read_unchecked
# (the path checked first is the drained one, where next() returned NULL)
# expect: reject R0 invalid mem access 'scalar'
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_next
r6 = *(u32 *)(r0 +0)
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: next_result_read_past_int
# expect: reject invalid access to memory, mem_size=4 off=4 size=4
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r6 = *(u32 *)(r0 +4)
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: next_result_is_read_only
# expect: reject cannot write into rdonly_mem
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r1 = 1
*(u32 *)(r0 +0) = r1
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: not_destroyed
# expect: reject Unreleased reference id=1 alloc_insn=4
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r0 = 0
exit

# case: destroyed_on_one_path_only
# expect: reject Unreleased reference
r6 = r1
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = *(u32 *)(r6 +0)
if r1 == 0 goto out
r1 = r10
r1 += -8
call bpf_iter_num_destroy
out:
r0 = 0
exit

# case: destroy_twice
# expect: reject expected an initialized iter_num as arg #0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: next_without_new
# expect: reject expected an initialized iter_num as arg #0
r1 = r10
r1 += -8
call bpf_iter_num_next
r0 = 0
exit

# case: new_twice_same_slot
# expect: reject expected uninitialized iter_num as arg #0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r0 = 0
exit

# case: two_iterators_nested
# expect: accept
r6 = 0
r1 = r10
r1 += -8
r2 = 0
r3 = 4
call bpf_iter_num_new
outer:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto outer_done
r1 = r10
r1 += -16
r2 = 0
r3 = 4
call bpf_iter_num_new
inner:
r1 = r10
r1 += -16
call bpf_iter_num_next
if r0 == 0 goto inner_done
r6 += 1
goto inner
inner_done:
r1 = r10
r1 += -16
call bpf_iter_num_destroy
goto outer
outer_done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
exit

# case: iterator_not_on_stack
# expect: reject arg#0 expected pointer to an iterator on stack
r2 = 0
r3 = 10
call bpf_iter_num_new
r0 = 0
exit

# case: iterator_misaligned
# expect: reject expected uninitialized iter_num as arg #0
r1 = r10
r1 += -12
r2 = 0
r3 = 10
call bpf_iter_num_new
r0 = 0
exit

# case: iterator_slot_read_as_data
# expect: reject invalid read from stack off -8+0 size 8
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r6 = *(u64 *)(r10 -8)
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
exit

# case: element_indexes_array_with_check
# map: array key=4 value=40 max=1
# expect: accept
r1 = 0
*(u32 *)(r10 -16) = r1
r2 = r10
r2 += -16
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r7 = r0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r1 = *(u32 *)(r0 +0)
if r1 > 9 goto loop
r1 <<= 2
r2 = r7
r2 += r1
r3 = *(u32 *)(r2 +0)
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
out:
r0 = 0
exit

# case: element_indexes_array_unchecked
# map: array key=4 value=40 max=1
# expect: reject R2 unbounded memory access
r1 = 0
*(u32 *)(r10 -16) = r1
r2 = r10
r2 += -16
r1 = map_fd[0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r7 = r0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r1 = *(u32 *)(r0 +0)
r1 <<= 2
r2 = r7
r2 += r1
r3 = *(u32 *)(r2 +0)
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
out:
r0 = 0
exit

# case: counter_in_body_widens
# (i counts iterations but decides nothing: widening lets the loop converge)
# expect: accept
r6 = 0
r1 = r10
r1 += -8
r2 = 0
r3 = 1000
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r6 += 1
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
exit

# case: counter_indexes_stack_unchecked
# (a counter used as a stack index without a bound: the writes reach the iterator)
# expect: reject expected an initialized iter_num as arg #0
r6 = 0
r1 = r10
r1 += -8
r2 = 0
r3 = 1000
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r6 += 1
r2 = r10
r2 += -64
r2 += r6
r3 = 0
*(u8 *)(r2 +0) = r3
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: iterator_overwritten_by_store
# expect: reject expected an initialized iter_num as arg #0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit

# case: iterator_in_subprog
# expect: accept
call count
exit
count:
r6 = 0
r1 = r10
r1 += -8
r2 = 0
r3 = 5
call bpf_iter_num_new
loop:
r1 = r10
r1 += -8
call bpf_iter_num_next
if r0 == 0 goto done
r6 += 1
goto loop
done:
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = r6
exit

# case: iterator_passed_to_subprog_for_next
# expect: accept
r1 = r10
r1 += -8
r2 = 0
r3 = 5
call bpf_iter_num_new
r1 = r10
r1 += -8
call step
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit
step:
call bpf_iter_num_next
r0 = 0
exit

# case: new_with_non_constant_bounds
# expect: accept
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r1 = r10
r1 += -8
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
r0 = 0
exit

# case: next_on_destroyed_iterator
# expect: reject expected an initialized iter_num as arg #0
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r1 = r10
r1 += -8
call bpf_iter_num_next
r0 = 0
exit

# case: iterator_outside_frame
# expect: reject invalid write to stack R1 off=-520 size=8
r1 = r10
r1 += -520
r2 = 0
r3 = 10
call bpf_iter_num_new
r0 = 0
exit

# case: element_pointer_kept_after_destroy
# expect: accept
r1 = r10
r1 += -8
r2 = 0
r3 = 10
call bpf_iter_num_new
r1 = r10
r1 += -8
call bpf_iter_num_next
r6 = r0
r1 = r10
r1 += -8
call bpf_iter_num_destroy
r0 = 0
exit
