/* A persistent pthread pool; the calling thread takes part in every job and tasks are handed out
 * through an atomic counter. Between jobs a worker spins for a short while (a forward pass issues
 * jobs microseconds apart, far less than a condition-variable wake-up) and then sleeps on a
 * condition variable, so an idle pool costs no CPU. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include "bk_internal.h"
#if BK_X86
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Spin iterations before sleeping (a pause is some tens of cycles: about 0.1-0.3 ms in all). */
#define SPIN 8192

struct bk_pool {
    int nthreads;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    uint64_t generation;     /* atomic; bumped for every job */
    int shutdown;            /* atomic */
    int sleepers;            /* atomic: workers blocked (or about to block) on wake */
    int active;              /* atomic: workers still inside the current job */
    int waiting;             /* caller blocked on done (under lock) */
    bk_task_fn fn;
    void *ctx;
    int64_t n;
    int64_t next;            /* atomic task counter */
};

static void run_tasks(bk_pool *p) {
    for (;;) {
        int64_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->n) break;
        p->fn(p->ctx, i);
    }
}

static void *worker(void *arg) {
    bk_pool *p = arg;
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (__atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == seen && !__atomic_load_n(&p->shutdown, __ATOMIC_ACQUIRE)) {
            if (++spins < SPIN) { cpu_relax(); continue; }
            pthread_mutex_lock(&p->lock);
            __atomic_fetch_add(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&p->generation, __ATOMIC_SEQ_CST) == seen && !__atomic_load_n(&p->shutdown, __ATOMIC_SEQ_CST))
                pthread_cond_wait(&p->wake, &p->lock);
            __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&p->lock);
        }
        if (__atomic_load_n(&p->shutdown, __ATOMIC_ACQUIRE)) break;
        seen = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
        run_tasks(p);
        if (__atomic_sub_fetch(&p->active, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&p->lock);
            if (p->waiting) pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
    return NULL;
}

bk_pool *bk_pool_create(int nthreads) {
    if (nthreads < 1) return NULL;
    bk_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = nthreads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nthreads > 1) {
        p->threads = calloc((size_t)nthreads - 1, sizeof(pthread_t));
        if (!p->threads) { free(p); return NULL; }
        for (int i = 0; i < nthreads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
                p->nthreads = i + 1;
                break;
            }
        }
    }
    return p;
}

void bk_pool_destroy(bk_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->shutdown, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads - 1; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}

int bk_pool_threads(const bk_pool *p) { return p ? p->nthreads : 1; }

void bk_parallel_for(bk_pool *p, int64_t n, bk_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (!p || p->nthreads == 1 || n == 1) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    p->fn = fn; p->ctx = ctx; p->n = n;
    __atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->active, p->nthreads - 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->generation, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    run_tasks(p);
    for (int spins = 0; __atomic_load_n(&p->active, __ATOMIC_ACQUIRE) > 0;) {
        if (++spins < SPIN) { cpu_relax(); continue; }
        pthread_mutex_lock(&p->lock);
        p->waiting = 1;
        while (__atomic_load_n(&p->active, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&p->done, &p->lock);
        p->waiting = 0;
        pthread_mutex_unlock(&p->lock);
    }
}
