// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/conf_errs.c - the list of configuration problems
 *
 * Problems found outside the loader (statements that do not prepare, a
 * schema that fails) join the same list, so `poold -t` prints them all
 * in one format: FILE:LINE: reason.
 */
#include "lib/conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int conf_errs_add(struct conf_errs *errs, const char *file, int line,
		  const char *fmt, ...)
{
	struct conf_err *e;
	unsigned int cap;
	va_list ap;
	int n;

	if (errs->n == errs->cap) {
		cap = errs->cap ? errs->cap * 2 : 8;
		e = reallocarray(errs->v, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		errs->v = e;
		errs->cap = cap;
	}
	e = &errs->v[errs->n];
	e->line = line;
	if (asprintf(&e->file, "%s", file) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&e->reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(e->file);
		return -ENOMEM;
	}
	errs->n++;
	return 0;
}
