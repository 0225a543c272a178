/* bk_crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by LevelDB tables and
 * TensorFlow tensor bundles. The SSE4.2 crc32 instruction when the CPU has it (runtime dispatch),
 * else a portable slicing-by-8 table. bk_crc32c(0, "123456789", 9) == 0xE3069283. */
#include <string.h>
#include "bk_internal.h"

static uint32_t g_table[8][256];
static int g_table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        g_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xFF];
    __atomic_store_n(&g_table_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc32c_portable(uint32_t crc, const uint8_t *p, size_t n) {
    if (!__atomic_load_n(&g_table_ready, __ATOMIC_ACQUIRE)) build_table(); /* idempotent: racing builders write equal values */
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); memcpy(&hi, p + 4, 4); /* little-endian host */
        lo ^= crc;
        crc = g_table[7][lo & 0xFF] ^ g_table[6][(lo >> 8) & 0xFF] ^ g_table[5][(lo >> 16) & 0xFF] ^
              g_table[4][lo >> 24] ^ g_table[3][hi & 0xFF] ^ g_table[2][(hi >> 8) & 0xFF] ^
              g_table[1][(hi >> 16) & 0xFF] ^ g_table[0][hi >> 24];
        p += 8; n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ g_table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#if BK_X86
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8; n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t bk_crc32c(uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
    crc = ~crc;
#if BK_X86
    static int have = -1;
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
    if (h < 0) {
        __builtin_cpu_init();
        h = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    if (h) return ~crc32c_sse42(crc, p, len);
#endif
    return ~crc32c_portable(crc, p, len);
}

uint32_t bk_crc32c_portable(uint32_t crc, const void *data, size_t len) {
    return ~crc32c_portable(~crc, data, len);
}
