// Seeded, platform-independent randomness for generators: xoshiro256** seeded by splitmix64,
// integer ranges by Lemire's multiply-shift with rejection (no std:: distributions, whose
// output differs between standard libraries), YCSB's zipfian generator, and a bijective
// scatter of ranks over [0, n) so hot items need not be adjacent.
//
// Simplified: YCSB's ScrambledZipfianGenerator draws from 10^10 items and hashes (FNV) modulo
// n, which merges some ranks; scatter() is a permutation instead, so the popularity of every
// rank is kept exactly.
#pragma once

#include <cmath>
#include <cstdint>

namespace mmbpf::workload {

inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class rng {
 public:
  explicit rng(uint64_t seed) {
    for (auto& x : s_) x = splitmix64(seed);
  }
  uint64_t next() {
    uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, 1), 53 bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t below(uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(next()) * n;
    auto lo = static_cast<uint64_t>(m);
    if (lo < n) {
      uint64_t t = -n % n;
      while (lo < t) {
        m = static_cast<__uint128_t>(next()) * n;
        lo = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// zeta(n, theta) = sum_{i=1..n} 1 / i^theta, extended from zeta(from, theta) = start.
inline double zeta(uint64_t from, uint64_t n, double theta, double start) {
  double z = start;
  for (uint64_t i = from; i < n; ++i) z += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  return z;
}

// YCSB ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic
// databases", SIGMOD'94): ranks 0..n-1, rank 0 the most popular, P(rank k) ~ 1/(k+1)^theta.
// P(rank 0) is exactly 1/zeta(n, theta). Construction costs O(n) pow() calls; grow() extends
// incrementally, as YCSB does when inserts add items.
class zipfian {
 public:
  // REQUIRES: n >= 1, 0 < theta < 1.
  zipfian(uint64_t n, double theta)
      : theta_(theta), alpha_(1.0 / (1.0 - theta)), zeta2_(zeta(0, 2, theta, 0)) {
    set_n(n, zeta(0, n, theta, 0));
  }
  void grow(uint64_t n) {
    if (n > n_) set_n(n, zeta(n_, n, theta_, zetan_));
  }
  uint64_t n() const { return n_; }
  double zetan() const { return zetan_; }

  uint64_t next(rng& r) const {
    double u = r.uniform01(), uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + half_pow_theta_) return 1;
    auto v = static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1, alpha_));
    return v < n_ ? v : n_ - 1;
  }

 private:
  void set_n(uint64_t n, double zn) {
    n_ = n;
    zetan_ = zn;
    half_pow_theta_ = std::pow(0.5, theta_);
    eta_ = (1 - std::pow(2.0 / static_cast<double>(n), 1 - theta_)) / (1 - zeta2_ / zetan_);
  }
  double theta_, alpha_, zeta2_;
  uint64_t n_ = 0;
  double zetan_ = 0, eta_ = 0, half_pow_theta_ = 0;
};

// A fixed permutation of [0, n) chosen by key: an invertible mix on the next power of two,
// walked until it lands below n (expected < 2 steps).
class scatter {
 public:
  scatter(uint64_t n, uint64_t key) : n_(n), key_(key | 1) {
    bits_ = 1;
    while (bits_ < 64 && (uint64_t{1} << bits_) < n) ++bits_;
    mask_ = bits_ == 64 ? ~uint64_t{0} : (uint64_t{1} << bits_) - 1;
  }
  uint64_t operator()(uint64_t x) const {
    do x = mix(x);
    while (x >= n_);
    return x;
  }

 private:
  uint64_t mix(uint64_t x) const {  // each step is a bijection on [0, 2^bits)
    for (int i = 0; i < 2; ++i) {
      x = (x * key_) & mask_;
      x ^= x >> ((bits_ + 1) / 2);
      x = (x * 0x9e3779b97f4a7c15ULL) & mask_;
      x ^= x >> ((bits_ + 2) / 3);
    }
    return x;
  }
  uint64_t n_, key_, mask_;
  int bits_;
};

}  // namespace mmbpf::workload
