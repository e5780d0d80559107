// SPDX-License-Identifier: BSD-2-Clause
/*
 * tools/poolmon.c - the live monitor of poold: command line and segment
 *
 *   poolmon [-c FILE | -n SHM_NAME] [-i MS] [--once] [--json]
 *           [--prometheus] [-v] [-h]
 *
 * poolmon maps poold's shared-memory segment read-only and never writes
 * it nor takes a lock in it (shm/snapshot.h does the reading).  Every
 * interval it takes a snapshot; two snapshots give rates, their
 * histograms' difference gives the interval's quantiles.
 *
 * The server may restart or reload while poolmon runs.  A reload keeps
 * the segment (the generation moves on); a restart replaces it.  So each
 * interval first asks whether the mapped segment is still the server's:
 * its master_pid is 0 (the master exited), that pid is gone (it was
 * killed), or the name now refers to another object.  Any of these
 * unmaps it, and poolmon tries to attach again every interval until a
 * server is back.  Rates are only taken between two snapshots of the
 * same master.
 *
 * Signals follow STYLE §3.2: SIGINT, SIGTERM and SIGHUP (quit) and
 * SIGWINCH (redraw) have flag-only handlers and stay blocked except
 * inside ppoll(), the one place poolmon waits.
 */
#include "tools/poolmon.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "lib/version.h"

volatile sig_atomic_t poolmon_sig_quit;
volatile sig_atomic_t poolmon_sig_winch;

static const int poolmon_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };

enum poolmon_mode {
	POOLMON_MODE_LIVE = 0,
	POOLMON_MODE_TEXT, /* --once */
	POOLMON_MODE_JSON,
	POOLMON_MODE_PROMETHEUS,
};

struct poolmon_opts {
	const char *conf; /* borrowed: -c */
	char name[256];	  /* the segment */
	unsigned int interval_ms;
	bool once;
	bool json;
	bool prometheus;
};

static void poolmon_usage(FILE *f)
{
	fprintf(f,
		"usage: poolmon [-c FILE | -n SHM_NAME] [-i MS] [--once] [--json] [--prometheus] [-v] [-h]\n"
		"  -c FILE       read the segment name (shm_name) from this configuration\n"
		"                (default: %s if it exists, else \"/poold\")\n"
		"  -n SHM_NAME   the segment's name, \"/poold\"\n"
		"  -i MS         refresh interval in milliseconds (default %d, at least %d)\n"
		"  --once        two snapshots MS apart, printed once as text, then exit\n"
		"  --json        one JSON document per interval (with --once: one)\n"
		"  --prometheus  the /metrics text once, for a textfile collector\n"
		"  -v            print the version and exit\n"
		"  -h            print this help and exit\n"
		"keys in the live view: q quit, p pause, s sort, d/w/r databases/workers/routes\n",
		CONF_DEFAULT_LOCAL, POOLMON_INTERVAL_MS,
		POOLMON_INTERVAL_MIN_MS);
}

/* milliseconds on CLOCK_MONOTONIC */
long long poolmon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Async-signal context: store a flag and return.  No output, no malloc. */
static void poolmon_on_signal(int signo)
{
	int saved_errno = errno;

	if (signo == SIGWINCH)
		poolmon_sig_winch = 1;
	else
		poolmon_sig_quit = 1;
	errno = saved_errno;
}

/* Handled signals stay blocked except inside ppoll(@waitmask). */
static int poolmon_signals_init(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = poolmon_on_signal };
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < ARRAY_SIZE(poolmon_signals); i++)
		sigaddset(&block, poolmon_signals[i]);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) < 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(poolmon_signals); i++)
		sigdelset(waitmask, poolmon_signals[i]);

	sa.sa_mask = block; /* handlers never nest */
	for (i = 0; i < ARRAY_SIZE(poolmon_signals); i++) {
		if (sigaction(poolmon_signals[i], &sa, NULL) < 0)
			return -errno;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed pipe is EPIPE on write */
	return 0;
}

/**
 * poolmon_wait - the one place poolmon sleeps, with its signals unblocked
 * @waitmask:    the mask to wait with (the handled signals open)
 * @fd:          a descriptor to watch for input, or -1
 * @deadline_ms: on poolmon_now_ms()'s clock
 *
 * Returns 1 when @fd is readable, 0 at the deadline or when a signal
 * arrived (the caller looks at the flags), or a negative errno (-EPIPE
 * when @fd hung up).
 */
int poolmon_wait(const sigset_t *waitmask, int fd, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long left = deadline_ms - poolmon_now_ms();
	struct timespec ts;
	int n;

	if (left < 0)
		left = 0;
	ts.tv_sec = left / 1000;
	ts.tv_nsec = (left % 1000) * 1000000;
	n = ppoll(&p, fd >= 0 ? 1 : 0, &ts, waitmask);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n > 0 && (p.revents & POLLIN))
		return 1;
	return n > 0 ? -EPIPE : 0; /* the terminal hung up */
}

/* the inode the name refers to now; 0 when there is none */
static ino_t poolmon_src_ino(const struct poolmon_src *src)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/%s", src->name + 1);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* true if the master recorded in the attached segment still runs */
static bool poolmon_src_master_runs(const struct poolmon_src *src)
{
	int32_t pid = atomic_load_explicit(&src->seg.hdr->master_pid,
					   memory_order_acquire);

	if (pid <= 0 || pid != src->master_pid)
		return false;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* true if the attached segment is no longer a running server's */
static bool poolmon_src_is_stale(const struct poolmon_src *src)
{
	return !poolmon_src_master_runs(src) ||
	       poolmon_src_ino(src) != src->ino;
}

static void poolmon_src_detach(struct poolmon_src *src)
{
	if (src->attached)
		shm_detach(&src->seg, false);
	src->attached = false;
	src->have_prev = false;
	src->have_cur = false;
}

/* map the segment, if it is a running server's; 0 or a negative errno */
static int poolmon_src_attach(struct poolmon_src *src)
{
	ino_t ino = poolmon_src_ino(src);
	int err;

	err = shm_attach(&src->seg, src->name, src->why, sizeof(src->why));
	if (err)
		return err;
	src->attached = true;
	src->master_pid = atomic_load_explicit(&src->seg.hdr->master_pid,
					       memory_order_acquire);
	src->ino = ino;
	if (poolmon_src_master_runs(src))
		return 0;
	if (src->master_pid > 0)
		snprintf(
			src->why, sizeof(src->why),
			"segment \"%s\": no poold runs (stale segment of pid %d)",
			src->name, (int)src->master_pid);
	else
		snprintf(
			src->why, sizeof(src->why),
			"segment \"%s\": no poold runs (its master has exited)",
			src->name);
	poolmon_src_detach(src);
	return -ESRCH;
}

/**
 * poolmon_src_init - a source for segment @name, not attached yet
 * @src:  filled
 * @name: POSIX shm name; a leading '/' is added when missing
 *
 * Returns 0, -ENAMETOOLONG or -ENOMEM (then @src is destroyed).
 */
int poolmon_src_init(struct poolmon_src *src, const char *name)
{
	*src = (struct poolmon_src){ .attached = false };
	if (strlen(name) >= sizeof(src->name) - 1)
		return -ENAMETOOLONG;
	/* shm_open() names start with one slash */
	snprintf(src->name, sizeof(src->name), "%s%s",
		 name[0] == '/' ? "" : "/", name);
	src->prev = calloc(1, sizeof(*src->prev));
	src->cur = calloc(1, sizeof(*src->cur));
	src->next = calloc(1, sizeof(*src->next));
	if (!src->prev || !src->cur || !src->next) {
		poolmon_src_destroy(src);
		return -ENOMEM;
	}
	return 0;
}

/* Unmap and free; safe on a partly built or destroyed source. */
void poolmon_src_destroy(struct poolmon_src *src)
{
	poolmon_src_detach(src);
	free(src->prev);
	free(src->cur);
	free(src->next);
	src->prev = src->cur = src->next = NULL;
}

/**
 * poolmon_src_tick - take this interval's snapshot
 * @src: the source
 *
 * Unmaps a segment whose server is gone, attaches when not attached, and
 * takes a snapshot: on success it is src->cur, the one before is
 * src->prev (valid when src->have_prev).  Returns 0, or a negative errno
 * with src->why saying why there is no snapshot this interval.
 */
int poolmon_src_tick(struct poolmon_src *src)
{
	struct shm_snap *t;
	int err;

	if (src->attached && poolmon_src_is_stale(src))
		poolmon_src_detach(src);
	if (!src->attached) {
		err = poolmon_src_attach(src);
		if (err)
			return err;
	}
	err = shm_snap_take(src->seg.hdr, src->next);
	if (err) {
		snprintf(
			src->why, sizeof(src->why),
			"segment \"%s\": could not take a consistent snapshot: %s",
			src->name, strerror(-err));
		return err;
	}
	t = src->prev;
	src->prev = src->cur;
	src->cur = src->next;
	src->next = t;
	src->have_prev = src->have_cur &&
			 src->prev->master_pid == src->cur->master_pid;
	src->have_cur = true;
	return 0;
}

/* the shm_name of configuration @path; 0, or 1 with the reason printed */
static int poolmon_conf_name(const char *path, char *name, size_t size,
			     bool quiet)
{
	struct conf_errs errs = { 0 };
	struct conf c;
	int err;

	err = conf_load(&c, path, &errs);
	if (!err)
		snprintf(name, size, "%s", c.shm_name);
	else if (!quiet && errs.n && errs.v[0].line > 0)
		fprintf(stderr, "poolmon: %s:%d: %s\n", errs.v[0].file,
			errs.v[0].line, errs.v[0].reason);
	else if (!quiet && errs.n)
		fprintf(stderr, "poolmon: %s: %s\n", errs.v[0].file,
			errs.v[0].reason);
	else if (!quiet)
		fprintf(stderr, "poolmon: %s: %s\n", path, strerror(-err));
	conf_destroy(&c);
	conf_errs_destroy(&errs);
	return err ? 1 : 0;
}

/* -i: 0, or 1 when @arg is not a whole number of ms in range */
static int poolmon_parse_interval(const char *arg, unsigned int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < POOLMON_INTERVAL_MIN_MS ||
	    v > 3600 * 1000) {
		fprintf(stderr,
			"poolmon: invalid interval \"%s\" (milliseconds, %d to 3600000)\n",
			arg, POOLMON_INTERVAL_MIN_MS);
		return 1;
	}
	*ms = (unsigned int)v;
	return 0;
}

/* the default segment: ./conf/poold.conf's, else "/poold" */
static void poolmon_default_name(struct poolmon_opts *o)
{
	snprintf(o->name, sizeof(o->name), "/poold");
	if (access(CONF_DEFAULT_LOCAL, F_OK) == 0 &&
	    poolmon_conf_name(CONF_DEFAULT_LOCAL, o->name, sizeof(o->name),
			      true) != 0)
		snprintf(o->name, sizeof(o->name), "/poold");
}

/* -1 to go on, else the exit status (printed what it had to) */
static int poolmon_parse_args(int argc, char **argv, struct poolmon_opts *o)
{
	static const struct option longs[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "json", no_argument, NULL, 'J' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int ch;

	*o = (struct poolmon_opts){ .interval_ms = POOLMON_INTERVAL_MS };
	while ((ch = getopt_long(argc, argv, "c:n:i:vh", longs, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'i':
			if (poolmon_parse_interval(optarg, &o->interval_ms))
				return 1;
			break;
		case 'O':
			o->once = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'P':
			o->prometheus = true;
			break;
		case 'v':
			printf("poolmon %s\n", POOLD_VERSION);
			return 0;
		case 'h':
			poolmon_usage(stdout);
			return 0;
		default:
			poolmon_usage(stderr);
			return 1;
		}
	}
	if (optind < argc || (o->conf && name) || (o->json && o->prometheus)) {
		poolmon_usage(stderr);
		return 1;
	}
	if (name && !*name) {
		poolmon_usage(stderr);
		return 1;
	}
	if (name)
		snprintf(o->name, sizeof(o->name), "%s", name);
	else if (o->conf &&
		 poolmon_conf_name(o->conf, o->name, sizeof(o->name), false))
		return 1;
	else if (!o->conf)
		poolmon_default_name(o);
	return -1;
}

/* --prometheus: the /metrics text of one snapshot */
static int poolmon_run_prometheus(struct poolmon_src *src)
{
	size_t len;
	char *text;
	int err;

	if (poolmon_src_tick(src)) {
		fprintf(stderr, "poolmon: %s\n", src->why);
		return 1;
	}
	err = shm_metrics_write(src->cur, &text, &len);
	if (err) {
		fprintf(stderr, "poolmon: could not write the metrics: %s\n",
			strerror(-err));
		return 1;
	}
	err = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 :
									   1;
	free(text);
	if (err)
		fprintf(stderr, "poolmon: could not write: %s\n",
			strerror(errno));
	return err;
}

static int poolmon_print(const struct poolmon_opts *o,
			 const struct poolmon_src *src, struct poolmon_model *m)
{
	poolmon_model_build(m, src->have_prev ? src->prev : NULL, src->cur);
	if (o->json)
		return poolmon_json_print(stdout, m);
	return poolmon_text_print(stdout, m);
}

/* --once (text or JSON): two snapshots one interval apart, one output */
static int poolmon_run_once(const struct poolmon_opts *o,
			    struct poolmon_src *src, struct poolmon_model *m,
			    const sigset_t *waitmask)
{
	long long end;

	if (poolmon_src_tick(src)) {
		fprintf(stderr, "poolmon: %s\n", src->why);
		return 1;
	}
	end = poolmon_now_ms() + o->interval_ms;
	while (!poolmon_sig_quit && poolmon_now_ms() < end)
		poolmon_wait(waitmask, -1, end); /* SIGWINCH wakes it early */
	if (poolmon_sig_quit)
		return 1;
	if (poolmon_src_tick(src)) {
		fprintf(stderr, "poolmon: %s\n", src->why);
		return 1;
	}
	if (poolmon_print(o, src, m)) {
		fprintf(stderr, "poolmon: could not write: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

/* --json: a document each interval that has two snapshots of one master */
static int poolmon_run_json(const struct poolmon_opts *o,
			    struct poolmon_src *src, struct poolmon_model *m,
			    const sigset_t *waitmask)
{
	long long next = poolmon_now_ms();

	while (!poolmon_sig_quit) {
		if (!poolmon_src_tick(src) && src->have_prev &&
		    poolmon_print(o, src, m)) {
			fprintf(stderr, "poolmon: could not write: %s\n",
				strerror(errno));
			return 1;
		}
		next += o->interval_ms;
		if (next < poolmon_now_ms())
			next = poolmon_now_ms();
		while (!poolmon_sig_quit && poolmon_now_ms() < next)
			poolmon_wait(waitmask, -1, next);
	}
	return 0;
}

static int poolmon_run(const struct poolmon_opts *o, struct poolmon_src *src,
		       const sigset_t *waitmask)
{
	struct poolmon_model *m;
	int st;

	if (o->prometheus)
		return poolmon_run_prometheus(src);
	if (!o->once && !o->json)
		return poolmon_live_run(src, o->interval_ms, waitmask);
	m = calloc(1, sizeof(*m));
	if (!m) {
		fprintf(stderr, "poolmon: out of memory\n");
		return 1;
	}
	if (o->once)
		st = poolmon_run_once(o, src, m, waitmask);
	else
		st = poolmon_run_json(o, src, m, waitmask);
	free(m);
	return st;
}

int main(int argc, char **argv)
{
	struct poolmon_opts o;
	struct poolmon_src src;
	sigset_t waitmask;
	int st, err;

	st = poolmon_parse_args(argc, argv, &o);
	if (st >= 0)
		return st;
	err = poolmon_signals_init(&waitmask);
	if (err) {
		fprintf(stderr, "poolmon: could not set up signals: %s\n",
			strerror(-err));
		return 1;
	}
	err = poolmon_src_init(&src, o.name);
	if (err) {
		fprintf(stderr, "poolmon: segment \"%s\": %s\n", o.name,
			strerror(-err));
		return 1;
	}
	st = poolmon_run(&o, &src, &waitmask);
	poolmon_src_destroy(&src);
	return st;
}
