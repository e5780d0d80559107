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
#include <string.h>

int conf_errs_vadd(struct conf_errs *errs, const char *file, int line,
		   const char *fmt, va_list ap)
{
	struct conf_err *e;
	unsigned int cap;

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
	e->file = strdup(file);
	if (!e->file)
		return -ENOMEM;
	if (vasprintf(&e->reason, fmt, ap) < 0) {
		free(e->file);
		return -ENOMEM;
	}
	errs->n++;
	return 0;
}

int conf_errs_add(struct conf_errs *errs, const char *file, int line,
		  const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = conf_errs_vadd(errs, file, line, fmt, ap);
	va_end(ap);
	return err;
}
