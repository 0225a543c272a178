/* Temp-file cleanup on SIGINT / SIGTERM / SIGHUP (see bk_robust.h). The handler only reads
 * atomics and static buffers and calls unlink, sigaction and raise: all async-signal-safe. */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include "include/bk_robust.h"

#define SLOTS 8
#define PATH_BYTES 4096

enum { FREE = 0, FILLING = 1, ARMED = 2 };
static char paths[SLOTS][PATH_BYTES];
static atomic_int state[SLOTS];

int bk_cleanup_register(const char *path) {
    size_t n = strlen(path);
    if (n >= PATH_BYTES) return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = FREE;
        if (atomic_compare_exchange_strong(&state[i], &expected, FILLING)) {
            memcpy(paths[i], path, n + 1);
            atomic_store(&state[i], ARMED);
            return i;
        }
    }
    return -1;
}

void bk_cleanup_unregister(int slot) {
    if (slot >= 0 && slot < SLOTS) atomic_store(&state[slot], FREE);
}

static void on_signal(int sig) {
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&state[i]) == ARMED) unlink(paths[i]);
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* delivered with the default action once this handler returns */
}

void bk_cleanup_install(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}
