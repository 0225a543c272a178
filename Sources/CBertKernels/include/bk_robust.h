/*
 * bk_robust: the async-signal-safe parts of bertc's "never lose data" guarantees, and the
 * non-finite scan `bertc compile` runs over every weight.
 *
 * Temp files: a writer registers the temp file it is filling before creating it and unregisters it
 * after the rename. The handler that bk_cleanup_install sets for SIGINT, SIGTERM and SIGHUP unlinks
 * every registered temp file, restores the default action and re-raises the signal, so the process
 * still dies by that signal (exit status 128 + n in a shell) and leaves no partial file.
 */
#ifndef BK_ROBUST_H
#define BK_ROBUST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers a temp file path (copied); returns a slot >= 0, or -1 when the path is too long or
 * every slot is taken (the file is then simply not cleaned up on a signal). */
int bk_cleanup_register(const char *path);
/* Forgets a slot returned by bk_cleanup_register (a negative slot is ignored). */
void bk_cleanup_unregister(int slot);
/* Installs the handler for SIGINT, SIGTERM and SIGHUP (signals that are ignored stay ignored). */
void bk_cleanup_install(void);

/* Counts the NaN and the infinite entries of x[0..n). */
void bk_count_nonfinite(const float *x, size_t n, size_t *nan_count, size_t *inf_count);

#ifdef __cplusplus
}
#endif

#endif
