// The verifier's abstract register (include/linux/bpf_verifier.h struct bpf_reg_state): a type
// (what the register holds: a scalar or a kind of pointer), a constant offset for pointers, and
// for scalars — and for a pointer's variable offset — a tnum (known bits) plus signed and
// unsigned bounds over 64 and 32 bits, kept consistent by reg_bounds_sync() (scalar.h).
// Names and flag values follow the kernel's (enum bpf_reg_type, enum bpf_type_flag).
#pragma once

#include <cstdint>
#include <limits>

#include "bpf/verifier/tnum.h"

namespace mmbpf::bpf {

class bpf_map;

namespace verifier {

// enum bpf_reg_type (base types).
enum reg_type : uint32_t {
  NOT_INIT = 0,
  SCALAR_VALUE,
  PTR_TO_CTX,
  CONST_PTR_TO_MAP,
  PTR_TO_MAP_VALUE,
  PTR_TO_MAP_KEY,
  PTR_TO_STACK,
  PTR_TO_MEM,       // a region of mem_size bytes (ringbuf records, helper-returned memory)
  PTR_TO_BTF_ID,    // a kernel object of BTF type btf_id (vmlinux BTF)
  PTR_TO_FUNC,      // a subprogram (callback) address
  NR_REG_TYPES,
  BASE_TYPE_MASK = 0xff,

  // enum bpf_type_flag, the kernel's bit positions (BPF_BASE_TYPE_BITS = 8), in the same enum
  // so that a type and its flags combine without casts.
  PTR_MAYBE_NULL = 1u << 8,
  MEM_RDONLY = 1u << 9,
  MEM_RINGBUF = 1u << 10,
  MEM_USER = 1u << 11,
  MEM_PERCPU = 1u << 12,
  OBJ_RELEASE = 1u << 13,
  PTR_UNTRUSTED = 1u << 14,
  MEM_UNINIT = 1u << 15,
  DYNPTR_TYPE_LOCAL = 1u << 16,
  MEM_FIXED_SIZE = 1u << 18,
  MEM_ALLOC = 1u << 19,
  PTR_TRUSTED = 1u << 20,
  MEM_RCU = 1u << 21,
  NON_OWN_REF = 1u << 22,
};

inline constexpr uint32_t base_type(uint32_t t) { return t & BASE_TYPE_MASK; }
inline constexpr uint32_t type_flags(uint32_t t) { return t & ~uint32_t{BASE_TYPE_MASK}; }

struct bpf_reg_state {
  uint32_t type = NOT_INIT;  // reg_type | type_flag
  // Pointers: the constant part of the offset from the object's start (the variable part is
  // var_off and the bounds).
  int32_t off = 0;
  // What the pointer points into.
  const bpf_map* map_ptr = nullptr;  // CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE/KEY
  uint32_t btf_id = 0;               // PTR_TO_BTF_ID: a type in the kernel's (vmlinux) BTF
  uint32_t mem_size = 0;             // PTR_TO_MEM, PTR_TO_CTX of a flat context
  uint32_t subprogno = 0;            // PTR_TO_FUNC
  // Identities: registers with the same id are copies (a null check on one applies to all);
  // ref_obj_id names the acquired reference this pointer holds (0: none).
  uint32_t id = 0;
  uint32_t ref_obj_id = 0;
  // Known bits and bounds of the value (scalars) or of the variable offset (pointers).
  tnum var_off = tnum_unknown;
  int64_t smin_value = std::numeric_limits<int64_t>::min();
  int64_t smax_value = std::numeric_limits<int64_t>::max();
  uint64_t umin_value = 0;
  uint64_t umax_value = std::numeric_limits<uint64_t>::max();
  int32_t s32_min_value = std::numeric_limits<int32_t>::min();
  int32_t s32_max_value = std::numeric_limits<int32_t>::max();
  uint32_t u32_min_value = 0;
  uint32_t u32_max_value = std::numeric_limits<uint32_t>::max();
  // PTR_TO_STACK: the frame whose stack it points into.
  uint32_t frameno = 0;
  // Precision tracking (__mark_chain_precision): whether the exact value of this scalar
  // mattered to a decision, so state pruning must compare it exactly.
  bool precise = false;
};

}  // namespace verifier
}  // namespace mmbpf::bpf
