/* Per-thread scratch buffers, grown on demand and kept for the thread's lifetime, so kernels do not
 * allocate on every call. Pool workers are persistent, so each worker owns its buffers; they are
 * freed when the thread exits (pthread key destructor). */
#include <pthread.h>
#include <stdlib.h>
#include "bk_internal.h"

typedef struct {
    float *ptr[BK_SCRATCH_SLOTS];
    size_t cap[BK_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_key_ok;
static _Thread_local scratch_set *t_set;

static void release(void *arg) {
    scratch_set *s = arg;
    for (int i = 0; i < BK_SCRATCH_SLOTS; i++) free(s->ptr[i]);
    free(s);
}

static void make_key(void) { g_key_ok = pthread_key_create(&g_key, release) == 0; }

float *bk_scratch(int slot, size_t floats) {
    if (slot < 0 || slot >= BK_SCRATCH_SLOTS || floats > ((size_t)1 << 40)) return NULL;
    if (!t_set) {
        pthread_once(&g_once, make_key);
        if (!g_key_ok) return NULL;
        scratch_set *s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (pthread_setspecific(g_key, s) != 0) { free(s); return NULL; }
        t_set = s;
    }
    scratch_set *s = t_set;
    if (s->cap[slot] < floats) {
        size_t want = floats < 1024 ? 1024 : floats + floats / 4;
        size_t bytes = (want * sizeof(float) + 63) & ~(size_t)63;
        float *p = aligned_alloc(64, bytes);
        if (!p) return NULL;
        free(s->ptr[slot]);
        s->ptr[slot] = p;
        s->cap[slot] = bytes / sizeof(float);
    }
    return s->ptr[slot];
}
