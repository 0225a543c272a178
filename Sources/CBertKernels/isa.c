/* Instruction-set detection and the level in use (overridable by BERTK_ISA or bk_isa_set). */
#include <stdlib.h>
#include <string.h>
#include "bk_internal.h"

static int g_current = -1;

bk_isa_level bk_isa_detect(void) {
#if BK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return BK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BK_ISA_AVX2;
#endif
    return BK_ISA_PORTABLE;
}

bk_isa_level bk_isa_current(void) {
    int cur = __atomic_load_n(&g_current, __ATOMIC_RELAXED);
    if (cur >= 0) return (bk_isa_level)cur;
    bk_isa_level best = bk_isa_detect();
    const char *env = getenv("BERTK_ISA");
    if (env) {
        bk_isa_level want = best;
        if (strcmp(env, "portable") == 0) want = BK_ISA_PORTABLE;
        else if (strcmp(env, "avx2") == 0) want = BK_ISA_AVX2;
        else if (strcmp(env, "avx512") == 0) want = BK_ISA_AVX512;
        if (want < best) best = want;
    }
    __atomic_store_n(&g_current, (int)best, __ATOMIC_RELAXED);
    return best;
}

bk_status bk_isa_set(bk_isa_level level) {
    if ((int)level < 0 || level > bk_isa_detect()) return BK_ERR_UNSUPPORTED;
    __atomic_store_n(&g_current, (int)level, __ATOMIC_RELAXED);
    return BK_OK;
}

const char *bk_isa_name(bk_isa_level level) {
    switch (level) {
    case BK_ISA_AVX512: return "avx512";
    case BK_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}
