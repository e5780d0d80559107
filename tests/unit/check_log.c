// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_log.c - log lines: format, levels, errno text, reopen
 * after rotation, rate limiting
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "lib/log.h"
#include "tests/unit/suites.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/poold-log-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/test.log", dir);
	ck_assert_int_eq(log_open(path), 0);
	log_level = LOG_LEVEL_INFO;
	log_set_role("tester");
}

static void teardown(void)
{
	char cmd[128];

	log_open("-");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *p)
{
	static char buf[65536];
	FILE *f = fopen(p, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(test_log_line_format)
{
	char want[128], *s;

	pr_info("hello %d", 42);
	pr_debug("hidden"); /* above the level */
	pr_err_errno(-ENOENT, "could not open \"%s\"", "x");
	s = slurp(path);
	snprintf(want, sizeof(want), " info [%d] tester: hello 42\n",
		 (int)getpid());
	ck_assert_msg(strstr(s, want), "got: %s", s);
	ck_assert_ptr_null(strstr(s, "hidden"));
	ck_assert_ptr_nonnull(strstr(s, "error ["));
	ck_assert_ptr_nonnull(
		strstr(s, "could not open \"x\": No such file or directory\n"));
	ck_assert(s[4] == '-' && s[10] == 'T'); /* 2026-11-24T... */
}
END_TEST

START_TEST(test_log_reopen_after_rotation)
{
	char rotated[160], *s;

	pr_info("before");
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	ck_assert_int_eq(rename(path, rotated), 0);
	pr_info("still old");
	ck_assert_int_eq(log_reopen(), 0);
	pr_info("after");
	s = slurp(rotated);
	ck_assert_ptr_nonnull(strstr(s, "before"));
	ck_assert_ptr_nonnull(strstr(s, "still old"));
	ck_assert_ptr_null(strstr(s, "after"));
	s = slurp(path);
	ck_assert_ptr_nonnull(strstr(s, "after"));
}
END_TEST

START_TEST(test_log_ratelimited_and_once)
{
	char *s, *p;
	int i, n = 0;

	for (i = 0; i < 100; i++) {
		pr_warn_ratelimited("flood %d", i);
		pr_warn_once("only once");
	}
	s = slurp(path);
	for (p = s; (p = strstr(p, "flood")); p++)
		n++;
	ck_assert_int_eq(n, 1);
	for (n = 0, p = s; (p = strstr(p, "only once")); p++)
		n++;
	ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(test_log_off_and_long_lines)
{
	char big[4096], *s;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pr_info("%s", big); /* cut, but still one line ending in '\n' */
	s = slurp(path);
	ck_assert_int_eq(s[strlen(s) - 1], '\n');
	ck_assert_ptr_eq(strchr(s, '\n'), s + strlen(s) - 1);
	ck_assert_int_eq(log_open(""), 0);
	ck_assert_int_eq(log_fd(), -1);
	pr_err("dropped");
	ck_assert_int_eq(log_open("/nonexistent/dir/x.log"), -ENOENT);
}
END_TEST

Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_log_line_format);
	tcase_add_test(tc, test_log_reopen_after_rotation);
	tcase_add_test(tc, test_log_ratelimited_and_once);
	tcase_add_test(tc, test_log_off_and_long_lines);
	suite_add_tcase(s, tc);
	return s;
}
