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

/* Buffers of 512 KiB or more are whole 2 MiB huge pages (bk_alloc_weights): the CSR kernels gather rows of a
 * transposed token block of up to 768 KiB at random, and with small pages every few rows is a TLB miss. */
#define BIG ((size_t)512 << 10)
#define HUGE ((size_t)2 << 20)

static void drop(float *p, size_t cap) {
    if (cap * sizeof(float) >= BIG) bk_free_weights(p, cap * sizeof(float));
    else free(p);
}

static void release(void *arg) {
    scratch_set *s = arg;
    for (int i = 0; i < BK_SCRATCH_SLOTS; i++) drop(s->ptr[i], s->cap[i]);
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
        if (bytes >= BIG) bytes = (bytes + HUGE - 1) & ~(HUGE - 1);
        float *p = bytes >= BIG ? bk_alloc_weights(bytes) : aligned_alloc(64, bytes);
        if (!p) return NULL;
        drop(s->ptr[slot], s->cap[slot]);
        s->ptr[slot] = p;
        s->cap[slot] = bytes / sizeof(float);
    }
    return s->ptr[slot];
}
