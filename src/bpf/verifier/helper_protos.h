// Helper prototypes as the verifier sees them (struct bpf_func_proto): the return type and
// the type of each argument, with the kernel's names (enum bpf_arg_type, bpf_return_type),
// for the helpers the runtime implements (helpers.h). A helper with no prototype here cannot
// be called from a verified program ("invalid func unknown#N").
#pragma once

#include <array>
#include <cstdint>

namespace mmbpf::bpf::verifier {

enum arg_type : uint8_t {
  ARG_DONTCARE = 0,        // unused argument
  ARG_ANYTHING,            // any initialized value
  ARG_CONST_MAP_PTR,       // a map (ld_imm64 of a map fd)
  ARG_PTR_TO_MAP_KEY,      // key_size readable bytes (stack or map value)
  ARG_PTR_TO_MAP_VALUE,    // value_size readable bytes
  ARG_PTR_TO_MEM,          // readable memory of the size in the next argument
  ARG_PTR_TO_UNINIT_MEM,   // writable memory of the size in the next argument
  ARG_CONST_SIZE,          // a bounded size > 0 for the previous argument
  ARG_CONST_SIZE_OR_ZERO,  // a bounded size >= 0
  ARG_PTR_TO_CONST_STR,    // a NUL-terminated string in a read-only map value
  ARG_PTR_TO_FUNC,         // a callback subprogram
  ARG_PTR_TO_STACK_OR_NULL,  // the callback's context: anything, by convention a stack pointer
  ARG_PTR_TO_SPIN_LOCK,    // a struct bpf_spin_lock inside a map value
  ARG_PTR_TO_RINGBUF_MEM,  // a record from bpf_ringbuf_reserve (released by the call)
  ARG_CONST_ALLOC_SIZE_OR_ZERO,  // the size of the memory the helper returns
};

enum ret_type : uint8_t {
  RET_INTEGER,
  RET_VOID,
  RET_PTR_TO_MAP_VALUE_OR_NULL,    // a value of the map in arg 1
  RET_PTR_TO_RINGBUF_MEM_OR_NULL,  // arg 2 bytes; an acquired reference
};

// What a helper's callback is called with and may return (push_callback_call).
enum callback_kind : uint8_t {
  CB_NONE,
  CB_LOOP,          // bpf_loop: (u32 index, void *ctx) -> 0 or 1
  CB_FOR_EACH_MAP,  // bpf_for_each_map_elem: (map, key, value, ctx) -> 0 or 1
};

struct func_proto {
  const char* name = nullptr;
  ret_type ret = RET_INTEGER;
  std::array<arg_type, 5> args{};
  callback_kind cb = CB_NONE;
  bool releases_ringbuf = false;  // bpf_ringbuf_submit / discard (OBJ_RELEASE on arg 1)
};

// The prototype of helper `id` (BPF_FUNC_*), or null.
const func_proto* helper_proto_of(int id);

}  // namespace mmbpf::bpf::verifier
