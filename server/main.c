// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/main.c - poold's command line
 *
 *   poold [-c FILE] [-f] [-t] [-s stop|halt|reload|reopen] [-v] [-h]
 *
 * -t loads and checks the configuration and prints every problem as
 * FILE:LINE: reason; -s signals the running master found through the
 * pidfile's lock (never through a bare pid, which may have been reused).
 * Everything else is the master's (server/master.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/version.h"
#include "server/master.h"
#include "server/pidfile.h"
#include "server/validate.h"

static const struct {
	const char *word;
	int sig;
} srv_main_signals[] = {
	{ "stop", SIGTERM },
	{ "halt", SIGQUIT },
	{ "reload", SIGHUP },
	{ "reopen", SIGUSR1 },
};

static void srv_main_usage(FILE *f)
{
	fprintf(f,
		"usage: poold [-c FILE] [-f] [-t] [-s stop|halt|reload|reopen] [-v] [-h]\n"
		"  -c FILE  configuration file (default: %s if it exists, else %s)\n"
		"  -f       stay in the foreground\n"
		"  -t       test the configuration and exit\n"
		"  -s WORD  signal the running master: stop (graceful), halt (fast),\n"
		"           reload, reopen (log files)\n"
		"  -v       print the version and exit\n"
		"  -h       print this help and exit\n",
		CONF_DEFAULT_LOCAL, CONF_DEFAULT_SYSTEM);
}

static void srv_main_print_errors(const struct conf_errs *errs)
{
	unsigned int i;

	for (i = 0; i < errs->n; i++) {
		if (errs->v[i].line > 0)
			fprintf(stderr, "poold: %s:%d: %s\n", errs->v[i].file,
				errs->v[i].line, errs->v[i].reason);
		else
			fprintf(stderr, "poold: %s: %s\n", errs->v[i].file,
				errs->v[i].reason);
	}
}

/* 0 with *c loaded, or 1 with every problem printed */
static int srv_main_load(struct conf *c, const char *path)
{
	struct conf_errs errs = { 0 };
	int err;

	err = conf_load(c, path, &errs);
	if (err) {
		srv_main_print_errors(&errs);
		if (!errs.n)
			fprintf(stderr, "poold: %s: %s\n", path,
				strerror(-err));
	}
	conf_errs_destroy(&errs);
	return err ? 1 : 0;
}

/* -t: the validate procedure too (schemas, statements), creating nothing */
static int srv_main_test(const struct conf *c)
{
	struct conf_errs errs = { 0 };
	int err;

	err = srv_validate(c, SRV_VALIDATE_TEST, &errs);
	srv_main_print_errors(&errs);
	conf_errs_destroy(&errs);
	if (err) {
		if (err != -EINVAL)
			fprintf(stderr, "poold: could not test \"%s\": %s\n",
				c->path, strerror(-err));
		return 1;
	}
	printf("poold: configuration file %s test is successful\n", c->path);
	return 0;
}

static int srv_main_signal(const struct conf *c, const char *word)
{
	unsigned int i;
	pid_t pid;

	for (i = 0; i < ARRAY_SIZE(srv_main_signals); i++) {
		if (!strcmp(word, srv_main_signals[i].word))
			break;
	}
	if (i == ARRAY_SIZE(srv_main_signals)) {
		fprintf(stderr,
			"poold: unknown signal \"%s\" for -s (use stop, halt, reload or reopen)\n",
			word);
		return 1;
	}
	pid = srv_pidfile_running(c->pidfile);
	if (pid == -ESRCH) {
		fprintf(stderr,
			"poold: no running master (pidfile \"%s\" is not locked)\n",
			c->pidfile);
		return 1;
	}
	if (pid < 0) {
		fprintf(stderr, "poold: could not read pidfile \"%s\": %s\n",
			c->pidfile, strerror(-pid));
		return 1;
	}
	if (kill(pid, srv_main_signals[i].sig) < 0) {
		fprintf(stderr,
			"poold: could not signal the master (pid %d): %s\n",
			(int)pid, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *sigword = NULL;
	bool foreground = false, test = false;
	struct conf *c;
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:fts:vh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 's':
			sigword = optarg;
			break;
		case 'v':
			printf("poold %s\n", POOLD_VERSION);
			return 0;
		case 'h':
			srv_main_usage(stdout);
			return 0;
		default:
			srv_main_usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "poold: unexpected argument \"%s\"\n",
			argv[optind]);
		srv_main_usage(stderr);
		return 1;
	}
	if (!path)
		path = conf_default_path();
	c = calloc(1, sizeof(*c));
	if (!c)
		return 2;
	rc = srv_main_load(c, path);
	if (!rc && test)
		rc = srv_main_test(c);
	if (rc || test || sigword) {
		if (!rc && sigword)
			rc = srv_main_signal(c, sigword);
		conf_destroy(c);
		free(c);
		return rc;
	}
	return srv_master_run(c, foreground);
}
