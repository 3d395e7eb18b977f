// struct folio as the model uses it: page-flag operations (include/linux/page-flags.h), the
// kernel's circular list_head operations (include/linux/list.h) for the intrusive LRU and free
// lists, and the page-cache entry encoding of xarray.h. Internal to src/mm.
//
// A page frame is exactly struct folio from bpf/include/vmlinux.h (64 bytes):
//   flags       PG_* bits, plus the model-only PG_young above the kernel's flags
//   lru         on an LRU list of its lruvec, or on the node's free list
//   mapping     the file's address_space, or the owner's mm_struct | PAGE_MAPPING_ANON
//   index       page index in the file, or the virtual page number for anon
//   swap        the swap slot an anon folio was read from or is written to (swap cache)
//   _mapcount   -1 when no page table maps it
//   _refcount   1 while allocated
//   memcg_data  the charged memcg (struct memcg*, whose first member is struct mem_cgroup)
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../bpf/include/vmlinux.h"

namespace mmbpf::mm {

// The PTE young (accessed) bit of the page tables mapping the folio: the model has no page
// tables for file mappings, so folio_referenced() reads and clears this bit instead.
inline constexpr int PG_young = 40;
inline constexpr uintptr_t PAGE_MAPPING_ANON = 1;

inline bool folio_test(const folio* f, int bit) {
  return (f->flags >> bit) & 1;
}
inline void folio_set(folio* f, int bit) {
  f->flags |= 1UL << bit;
}
inline void folio_clear(folio* f, int bit) {
  f->flags &= ~(1UL << bit);
}
inline bool folio_test_clear(folio* f, int bit) {
  const bool was = folio_test(f, bit);
  folio_clear(f, bit);
  return was;
}
inline bool folio_is_file_lru(const folio* f) {
  return !folio_test(f, PG_swapbacked);
}
inline bool folio_mapped(const folio* f) {
  return f->_mapcount.counter >= 0;
}
inline bool folio_test_anon(const folio* f) {
  return reinterpret_cast<uintptr_t>(f->mapping) & PAGE_MAPPING_ANON;
}

// include/linux/list.h
inline void INIT_LIST_HEAD(list_head* h) {
  h->next = h->prev = h;
}
inline bool list_empty(const list_head* h) {
  return h->next == h;
}
inline void list_insert(list_head* n, list_head* prev, list_head* next) {
  next->prev = n;
  n->next = next;
  n->prev = prev;
  prev->next = n;
}
inline void list_add(list_head* n, list_head* head) {
  list_insert(n, head, head->next);
}
inline void list_add_tail(list_head* n, list_head* head) {
  list_insert(n, head->prev, head);
}
inline void list_del(list_head* e) {
  e->next->prev = e->prev;
  e->prev->next = e->next;
  e->next = e->prev = nullptr;
}
inline folio* lru_to_folio(list_head* l) {
  return reinterpret_cast<folio*>(reinterpret_cast<char*>(l) - offsetof(folio, lru));
}

// Page-cache / page-table entries (xarray.h): a folio id or a value entry.
inline uint64_t folio_entry(uint32_t id) {
  return (static_cast<uint64_t>(id) + 1) << 1;
}
inline uint32_t entry_folio_id(uint64_t e) {
  return static_cast<uint32_t>((e >> 1) - 1);
}
// A swap entry in a page table: the slot, tagged as a value.
inline uint64_t swp_entry(uint64_t slot) {
  return (slot << 1) | 1;
}
inline uint64_t swp_offset(uint64_t e) {
  return e >> 1;
}

}  // namespace mmbpf::mm
