// Errors as values for the BPF runtime: the loader, decoder, maps and engines return a
// result<T> that holds either a value or an error carrying a one-line message. No exceptions
// cross these interfaces (DESIGN §7); hot paths never allocate unless they fail.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mmbpf {

struct error {
  std::string msg;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T v) : v_(std::move(v)) {}      // NOLINT(google-explicit-constructor)
  result(error e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return e_; }

 private:
  error e_;
  bool ok_ = true;
};

}  // namespace mmbpf
