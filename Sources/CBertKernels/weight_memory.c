/* Memory for packed weights: large blocks are mapped on a 2 MiB boundary and marked for transparent
 * huge pages (where the kernel offers them on request), so a GEMM walking hundreds of megabytes of panels
 * takes one TLB entry per 2 MiB instead of per 4 KiB. The mapping is rounded up to whole small pages only,
 * so a block never costs more than its size plus one page. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "bk_internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

static size_t small_page(void) {
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

void *bk_alloc_weights(size_t bytes) {
    if (bytes == 0) return NULL;
    if (bytes < HUGE_PAGE) {
        void *p = NULL;
        return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
    }
    size_t page = small_page();
    size_t len = (bytes + page - 1) & ~(page - 1);
    if (len < bytes) return NULL;
    /* Over-map by one huge page, then trim both ends so the block starts on a 2 MiB boundary. */
    uint8_t *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uint8_t *start = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw) munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + len + HUGE_PAGE - (start + len));
    if (tail) munmap(start + len, tail);
#ifdef MADV_HUGEPAGE
    madvise(start, len & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    return start;
}

void bk_free_weights(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < HUGE_PAGE) { free(p); return; }
    size_t page = small_page();
    munmap(p, (bytes + page - 1) & ~(page - 1));
}
