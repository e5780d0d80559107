// SPDX-License-Identifier: BSD-2-Clause
/*
 * tools/poolmon_live.c - the curses live view
 *
 * Every interval: a snapshot, then the whole screen is drawn again from
 * the sections of poolmon_render.c through a curses sink (erase, draw,
 * refresh: curses sends only what changed).  Between intervals poolmon
 * sleeps in ppoll() on the terminal with its signals unblocked, so a key,
 * SIGWINCH or SIGINT wakes it at once; keys redraw without a new
 * snapshot.
 *
 * Keys: q quit, p pause (no new snapshots until p again), s the next sort
 * column of the view, d / w / r the database, worker and route views,
 * ^L repaint.
 *
 * Our handlers are installed before newterm(), so curses keeps them (it
 * only catches SIGINT, SIGTERM and SIGWINCH when they are at SIG_DFL);
 * on SIGWINCH the loop asks the terminal its size and calls resizeterm().
 * endwin() restores the terminal on every way out.
 */
#include "tools/poolmon.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>

#define POOLMON_KEY_CTRL_L 12

struct poolmon_live {
	struct poolmon_src *src;  /* borrowed */
	struct poolmon_model *m;  /* owned */
	const sigset_t *waitmask; /* borrowed */
	unsigned int interval_ms;
	enum poolmon_view view;
	unsigned int sort[POOLMON_VIEW_COUNT];
	bool paused;
	bool quit;
	bool colors;
	int row; /* the curses sink: where the next piece goes */
	int col;
};

static attr_t poolmon_live_attr(const struct poolmon_live *l,
				enum poolmon_attr a)
{
	switch (a) {
	case POOLMON_A_SUMMARY:
	case POOLMON_A_TITLE:
		return A_BOLD;
	case POOLMON_A_HEAD:
		return A_REVERSE;
	case POOLMON_A_SORT:
		return A_REVERSE | A_BOLD | A_UNDERLINE;
	case POOLMON_A_ALERT:
		return A_BOLD | (l->colors ? COLOR_PAIR(1) : 0);
	default:
		return A_NORMAL;
	}
}

/* append to the current line, clipped at the right edge and the bottom */
static void poolmon_live_put(struct poolmon_sink *k, enum poolmon_attr a,
			     const char *text)
{
	struct poolmon_live *l = k->ctx;
	int n = (int)strlen(text), room = COLS - l->col;
	attr_t at = poolmon_live_attr(l, a);

	if (l->row >= LINES || room <= 0)
		return;
	if (n > room)
		n = room;
	attron(at);
	mvaddnstr(l->row, l->col, text, n);
	attroff(at);
	l->col += n;
}

static void poolmon_live_end(struct poolmon_sink *k)
{
	struct poolmon_live *l = k->ctx;

	l->row++;
	l->col = 0;
}

/* the line that names the views, the sort column and the keys */
static void poolmon_live_bar(struct poolmon_live *l, struct poolmon_sink *k)
{
	static const char keys[POOLMON_VIEW_COUNT] = { 'd', 'w', 'r' };
	unsigned int v;

	for (v = 0; v < POOLMON_VIEW_COUNT; v++) {
		poolmon_putf(k,
			     v == l->view ? POOLMON_A_SORT : POOLMON_A_NORMAL,
			     "[%c] %s", keys[v],
			     poolmon_view_name((enum poolmon_view)v));
		k->put(k, POOLMON_A_NORMAL, "  ");
	}
	if (l->paused)
		k->put(k, POOLMON_A_ALERT, "PAUSED  ");
	poolmon_putf(k, POOLMON_A_NORMAL,
		     "sort %s  every %ums  q quit  p pause  s sort  segment %s",
		     poolmon_view_col(l->view, l->sort[l->view]),
		     l->interval_ms, l->src->name);
	k->end(k);
}

static void poolmon_live_draw(struct poolmon_live *l)
{
	struct poolmon_sink k = { poolmon_live_put, poolmon_live_end, l };
	int left;

	erase();
	l->row = l->col = 0;
	if (!l->src->have_cur) {
		poolmon_putf(&k, POOLMON_A_ALERT, "waiting for poold... (%s)",
			     l->src->why);
		k.end(&k);
		poolmon_putf(&k, POOLMON_A_NORMAL,
			     "trying segment %s every %ums  (q quit)",
			     l->src->name, l->interval_ms);
		k.end(&k);
		refresh();
		return;
	}
	poolmon_render_summary(&k, l->m);
	poolmon_render_header(&k, l->m);
	poolmon_render_totals(&k, l->m);
	k.end(&k);
	poolmon_live_bar(l, &k);
	left = LINES - l->row - 1; /* under the table's header */
	poolmon_render_table(&k, l->m, l->view, l->sort[l->view],
			     left > 0 ? (unsigned int)left : 1);
	refresh();
}

/* one key; false when it is not one of ours */
static bool poolmon_live_key(struct poolmon_live *l, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		l->quit = true;
		return true;
	case 'p':
	case 'P':
		l->paused = !l->paused;
		return true;
	case 's':
	case 'S':
		l->sort[l->view] =
			(l->sort[l->view] + 1) % poolmon_view_ncols(l->view);
		return true;
	case 'd':
		l->view = POOLMON_VIEW_DB;
		return true;
	case 'w':
		l->view = POOLMON_VIEW_WORKER;
		return true;
	case 'r':
		l->view = POOLMON_VIEW_ROUTE;
		return true;
	case POOLMON_KEY_CTRL_L:
		clearok(curscr, TRUE);
		return true;
	case KEY_RESIZE:
		return true;
	default:
		return false;
	}
}

/* the terminal's new size, after SIGWINCH */
static void poolmon_live_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
}

static void poolmon_live_tick(struct poolmon_live *l)
{
	if (poolmon_src_tick(l->src) || !l->src->have_cur)
		return;
	poolmon_model_build(l->m, l->src->have_prev ? l->src->prev : NULL,
			    l->src->cur);
}

/* 0 when the user quit, or a negative errno */
static int poolmon_live_loop(struct poolmon_live *l)
{
	long long next = poolmon_now_ms(), now;
	bool dirty = true;
	int ch, n;

	while (!l->quit && !poolmon_sig_quit) {
		if (poolmon_sig_winch) {
			poolmon_sig_winch = 0;
			poolmon_live_resize();
			dirty = true;
		}
		now = poolmon_now_ms();
		if (!l->paused && now >= next) {
			poolmon_live_tick(l);
			next += l->interval_ms;
			if (next <= now)
				next = now + l->interval_ms;
			dirty = true;
		}
		if (dirty)
			poolmon_live_draw(l);
		dirty = false;
		n = poolmon_wait(l->waitmask, STDIN_FILENO,
				 l->paused ? now + 3600 * 1000 : next);
		if (n < 0)
			return n;
		while (n > 0 && (ch = getch()) != ERR)
			dirty |= poolmon_live_key(l, ch);
		if (l->paused)
			next = poolmon_now_ms(); /* resume with a snapshot */
	}
	return 0;
}

static void poolmon_live_colors(struct poolmon_live *l)
{
	if (!has_colors() || start_color() == ERR)
		return;
	use_default_colors();
	l->colors = init_pair(1, COLOR_RED, -1) != ERR;
}

/**
 * poolmon_live_run - the live view until q or SIGINT
 * @src:         the segment
 * @interval_ms: refresh interval
 * @waitmask:    the signal mask to wait with
 *
 * Returns the exit status: 0, or 1 (printed why) when there is no
 * terminal to draw on.
 */
int poolmon_live_run(struct poolmon_src *src, unsigned int interval_ms,
		     const sigset_t *waitmask)
{
	struct poolmon_live l = { .src = src,
				  .waitmask = waitmask,
				  .interval_ms = interval_ms };
	SCREEN *scr;
	int err;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr,
			"poolmon: the live view needs a terminal (use --once or --json)\n");
		return 1;
	}
	l.m = calloc(1, sizeof(*l.m));
	if (!l.m) {
		fprintf(stderr, "poolmon: out of memory\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr, "poolmon: cannot use the terminal \"%s\"\n",
			getenv("TERM") ? getenv("TERM") : "");
		free(l.m);
		return 1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	poolmon_live_colors(&l);

	err = poolmon_live_loop(&l);

	endwin();
	delscreen(scr);
	free(l.m);
	if (err) {
		fprintf(stderr, "poolmon: could not wait for input: %s\n",
			strerror(-err));
		return 1;
	}
	return 0;
}
