// The kernel's generic BPF helpers, by their BPF_FUNC_* ids and with their semantics: map
// access, ring buffer, bpf_loop and bpf_for_each_map_elem callbacks, spin locks, probe reads,
// the clock, the current task, random numbers and trace_printk. Families add their own helpers
// with runtime::register_helper.
//
// Simplified: spin locks are counters (one thread runs a simulation), trace_printk writes the
// message alone to runtime::trace_log() (no "comm-pid [cpu]" prefix), %p prints the raw address.
#pragma once

#include <cstdint>
#include <string>

namespace mmbpf::bpf {

class runtime;

void register_standard_helpers(runtime& rt);

// bpf_trace_printk's formatting (bpf_bprintf_prepare's rules): at most three conversions among
// %d %i %u %x %X %o %c %s %p %px %pK with optional l/ll and flags/width; anything else is
// rejected. `read_str` reads a NUL-terminated string argument (for %s), returning false on a
// bad address. Returns false for an invalid format.
bool bprintf_format(const char* fmt, size_t fmt_len, const uint64_t args[3], std::string& out,
                    bool (*read_str)(uint64_t addr, std::string& s));

}  // namespace mmbpf::bpf
