// Binary trace reader and writer (format in trace.h).
#include "workload/trace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace mmbpf::workload {

static_assert(std::endian::native == std::endian::little, "the trace format is little-endian");

namespace {

template <class T>
void put(std::string& s, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  s.append(b, sizeof(T));
}

template <class T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool parse_u64(std::string_view s, uint64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string trace_meta::encode() const {
  std::string s;
  for (const auto& [k, v] : entries) s += fmt::format("{}={}\n", k, v);
  for (const auto& [ino, size] : file_size) s += fmt::format("file.{}={}\n", ino, size);
  return s;
}

result<trace_meta> trace_meta::decode(std::string_view blob) {
  trace_meta m;
  size_t line = 0;
  while (!blob.empty()) {
    ++line;
    size_t nl = blob.find('\n');
    std::string_view l = blob.substr(0, nl);
    blob = nl == std::string_view::npos ? std::string_view{} : blob.substr(nl + 1);
    if (l.empty()) continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return error{fmt::format("metadata line {}: expected key=value", line)};
    std::string_view k = l.substr(0, eq), v = l.substr(eq + 1);
    if (k.starts_with("file.")) {
      uint64_t ino, size;
      if (!parse_u64(k.substr(5), ino) || ino > UINT32_MAX)
        return error{fmt::format("metadata line {}: bad inode in '{}'", line, k)};
      if (!parse_u64(v, size))
        return error{fmt::format("metadata line {}: bad file size '{}'", line, v)};
      if (!m.file_size.emplace(static_cast<uint32_t>(ino), size).second)
        return error{fmt::format("metadata line {}: duplicate key '{}'", line, k)};
      continue;
    }
    for (const auto& e : m.entries)
      if (e.first == k) return error{fmt::format("metadata line {}: duplicate key '{}'", line, k)};
    m.entries.emplace_back(std::string(k), std::string(v));
  }
  return m;
}

std::string encode_trace_header(const trace_meta& meta) {
  std::string blob = meta.encode();
  std::string s(trace_magic, sizeof trace_magic);
  put<uint32_t>(s, trace_version);
  put<uint32_t>(s, 0);
  put<uint32_t>(s, sizeof(event));
  put<uint32_t>(s, static_cast<uint32_t>(blob.size()));
  put<uint64_t>(s, 0);
  return s + blob;
}

// ---- reader ----

trace_reader::~trace_reader() {
  if (fd_ >= 0) ::close(fd_);
}

result<std::unique_ptr<trace_reader>> trace_reader::open(const std::string& path) {
  std::unique_ptr<trace_reader> r(new trace_reader);
  r->name_ = path;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return error{fmt::format("{}: {}", path, std::strerror(errno))};
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(r->fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  if (auto h = r->read_header(); !h) return h.err();
  return r;
}

result<std::unique_ptr<trace_reader>> trace_reader::from_memory(std::string name,
                                                                std::string bytes) {
  std::unique_ptr<trace_reader> r(new trace_reader);
  r->name_ = std::move(name);
  r->mem_ = std::move(bytes);
  if (auto h = r->read_header(); !h) return h.err();
  return r;
}

result<size_t> trace_reader::fill(char* dst, size_t n) {
  if (fd_ < 0) {
    size_t k = std::min(n, mem_.size() - mem_pos_);
    std::memcpy(dst, mem_.data() + mem_pos_, k);
    mem_pos_ += k;
    return k;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::read(fd_, dst + got, n - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      return error{fmt::format("{}: {}", name_, std::strerror(errno))};
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  return got;
}

result<void> trace_reader::read_header() {
  char h[trace_header_size];
  auto got = fill(h, sizeof h);
  if (!got) return got.err();
  if (*got >= sizeof trace_magic && std::memcmp(h, trace_magic, sizeof trace_magic) != 0)
    return error{fmt::format("{}: bad magic (not an mmbpf trace)", name_)};
  if (*got < sizeof h)
    return error{fmt::format("{}: truncated header ({} of {} bytes)", name_, *got, sizeof h)};
  auto version = get<uint32_t>(h + 8), flags = get<uint32_t>(h + 12);
  auto rec = get<uint32_t>(h + 16), meta_len = get<uint32_t>(h + 20);
  if (version != trace_version)
    return error{fmt::format("{}: unsupported trace version {} (this build reads {})", name_,
                             version, trace_version)};
  if (flags != 0) return error{fmt::format("{}: unknown header flags {:#x}", name_, flags)};
  if (rec != sizeof(event))
    return error{fmt::format("{}: record size {} (version {} records are {} bytes)", name_, rec,
                             version, sizeof(event))};
  if (get<uint64_t>(h + 24) != 0) return error{fmt::format("{}: reserved header field set", name_)};
  std::string blob(meta_len, '\0');
  got = fill(blob.data(), meta_len);
  if (!got) return got.err();
  if (*got < meta_len)
    return error{fmt::format("{}: truncated metadata ({} of {} bytes)", name_, *got, meta_len)};
  auto m = trace_meta::decode(blob);
  if (!m) return error{fmt::format("{}: {}", name_, m.err().msg)};
  meta_ = std::move(*m);
  return {};
}

result<size_t> trace_reader::read(std::span<event> out) {
  if (done_) return size_t{0};
  char* dst = reinterpret_cast<char*>(out.data());
  auto got = fill(dst, out.size_bytes());
  if (!got) return got.err();
  size_t n = *got / sizeof(event), rem = *got % sizeof(event);
  // Check kinds; the common case is a tight loop with one compare per record.
  const event* ev = out.data();
  for (size_t i = 0; i < n; ++i) {
    uint8_t k = static_cast<uint8_t>(ev[i].kind);
    if (!valid_event_kind(k) || ev[i].reserved != 0) [[unlikely]] {
      uint64_t idx = nr_read_ + i + 1;
      done_ = true;
      if (!valid_event_kind(k))
        return error{fmt::format("{}: record {}: unknown event kind {}", name_, idx, k)};
      return error{fmt::format("{}: record {}: reserved byte is {}, expected 0", name_, idx,
                               ev[i].reserved)};
    }
  }
  nr_read_ += n;
  if (rem != 0) {  // fill() is short only at end of input
    done_ = true;
    return error{fmt::format("{}: truncated after record {} ({} of {} bytes)", name_, nr_read_, rem,
                             sizeof(event))};
  }
  if (n < out.size()) done_ = true;
  return n;
}

// ---- writer ----

namespace {
constexpr size_t writer_buf_size = size_t{1} << 20;
}

result<trace_writer> trace_writer::create(const std::string& path, const trace_meta& meta) {
  trace_writer w;
  w.path_ = path;
  w.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return error{fmt::format("{}: {}", path, std::strerror(errno))};
  w.buf_.reserve(writer_buf_size);
  std::string h = encode_trace_header(meta);
  w.buf_.insert(w.buf_.end(), h.begin(), h.end());
  return w;
}

trace_writer::trace_writer(trace_writer&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)) {}

trace_writer& trace_writer::operator=(trace_writer&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    buf_ = std::move(o.buf_);
  }
  return *this;
}

trace_writer::~trace_writer() {
  if (fd_ >= 0) (void)close();
}

result<void> trace_writer::flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t k = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (k < 0) {
      if (errno == EINTR) continue;
      return error{fmt::format("{}: {}", path_, std::strerror(errno))};
    }
    off += static_cast<size_t>(k);
  }
  buf_.clear();
  return {};
}

result<void> trace_writer::write(std::span<const event> events) {
  const char* p = reinterpret_cast<const char*>(events.data());
  size_t n = events.size_bytes();
  while (n > 0) {
    size_t k = std::min(n, writer_buf_size - std::min(buf_.size(), writer_buf_size));
    if (k == 0) {
      if (auto r = flush(); !r) return r;
      continue;
    }
    buf_.insert(buf_.end(), p, p + k);
    p += k;
    n -= k;
  }
  return {};
}

result<void> trace_writer::close() {
  auto r = flush();
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 && r.ok()) return error{fmt::format("{}: {}", path_, std::strerror(errno))};
  return r;
}

}  // namespace mmbpf::workload
