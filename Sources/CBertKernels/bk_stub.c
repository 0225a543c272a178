/* Temporary: replaced by the kernel sources. */
#include "bertk.h"
