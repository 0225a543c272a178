/* bk_hash64: the xxHash64 algorithm (public specification), for fingerprints and checksums. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "bk_internal.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; } /* little-endian host */
static inline uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t round64(uint64_t acc, uint64_t input) { acc += input * P2; acc = rotl64(acc, 31); return acc * P1; }
static inline uint64_t merge64(uint64_t acc, uint64_t val) { acc ^= round64(0, val); return acc * P1 + P4; }

void bk_release_pages(const void *data, size_t len) {
#ifdef MADV_DONTNEED
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (!data || page == 0 || (page & (page - 1))) return;
    uintptr_t a = ((uintptr_t)data + page - 1) & ~(page - 1), b = ((uintptr_t)data + len) & ~(page - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
#else
    (void)data; (void)len;
#endif
}

/* release: hand the hashed pages back (bk_release_pages) every 4 MiB, so hashing a mapped file does not
 * make all of it resident at once. */
static inline __attribute__((always_inline)) uint64_t hash64(const void *data, size_t len, uint64_t seed,
                                                             int release) {
    const uint8_t *p = data, *end = p + len, *done = p;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
        const uint8_t *limit = end - 32;
        do {
            v1 = round64(v1, read64(p)); v2 = round64(v2, read64(p + 8));
            v3 = round64(v3, read64(p + 16)); v4 = round64(v4, read64(p + 24));
            p += 32;
            if (release && (size_t)(p - done) >= ((size_t)4 << 20)) { bk_release_pages(done, (size_t)(p - done)); done = p; }
        } while (p <= limit);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = merge64(h, v1); h = merge64(h, v2); h = merge64(h, v3); h = merge64(h, v4);
    } else {
        h = seed + P5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) { h ^= round64(0, read64(p)); h = rotl64(h, 27) * P1 + P4; p += 8; }
    if (p + 4 <= end) { h ^= (uint64_t)read32(p) * P1; h = rotl64(h, 23) * P2 + P3; p += 4; }
    while (p < end) { h ^= (uint64_t)(*p) * P5; h = rotl64(h, 11) * P1; p++; }
    h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
    if (release) bk_release_pages(done, (size_t)(end - done));
    return h;
}

uint64_t bk_hash64(const void *data, size_t len, uint64_t seed) { return hash64(data, len, seed, 0); }
uint64_t bk_hash64_mapped(const void *data, size_t len, uint64_t seed) { return hash64(data, len, seed, 1); }
