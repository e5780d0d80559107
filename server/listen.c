// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/listen.c - open the listening sockets
 *
 * The kernel silently clamps listen()'s backlog to net.core.somaxconn, so
 * both values are read and the effective one is logged: an operator who
 * sets backlog = 4096 on a machine with somaxconn 128 learns it at start,
 * not under load.  A unix socket path left behind by a killed server is
 * detected by connecting to it: ECONNREFUSED means nobody listens and the
 * file may be replaced; anything else (a live server, not a socket) stops.
 */
#define pr_fmt(fmt) "listen: " fmt

#include "server/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/log.h"

static int srv_listen_somaxconn(void)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open("/proc/sys/net/core/somaxconn", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/* 0 when @path is absent or a socket nobody listens on (then removed) */
static int srv_listen_clear_unix(const struct conf_listen *cl)
{
	struct stat st;
	int fd, err;

	if (lstat(cl->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("could not listen on \"%s\": a file that is not a socket exists there",
		       cl->spec);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)&cl->addr, cl->addrlen);
	err = err < 0 ? -errno : 0;
	close(fd);
	if (err == -ECONNREFUSED) {
		pr_notice("removing stale unix socket \"%s\"", cl->path);
		return unlink(cl->path) < 0 ? -errno : 0;
	}
	pr_err("could not listen on \"%s\": another process is listening there",
	       cl->spec);
	return -EADDRINUSE;
}

static int srv_listen_setopts(int fd, const struct conf_listen *cl)
{
	int one = 1;

	if (cl->family == AF_UNIX)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (cl->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static uint16_t srv_listen_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int srv_listen_open(struct srv_listener *l, const struct conf_listen *cl,
		    int backlog, bool status)
{
	int fd, err, somax;
	char name[128];

	*l = (struct srv_listener){ .fd = -1, .cl = cl, .status = status };
	if (cl->family == AF_UNIX) {
		err = srv_listen_clear_unix(cl);
		if (err)
			return err;
	}
	fd = socket(cl->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto err_log;
	}
	err = srv_listen_setopts(fd, cl);
	if (!err &&
	    bind(fd, (const struct sockaddr *)&cl->addr, cl->addrlen) < 0)
		err = -errno;
	if (!err && listen(fd, backlog) < 0)
		err = -errno;
	if (err) {
		close(fd);
		goto err_log;
	}
	somax = srv_listen_somaxconn();
	l->fd = fd;
	l->port = srv_listen_bound_port(fd);
	l->backlog = somax > 0 && somax < backlog ? somax : backlog;
	srv_listen_name(l, name, sizeof(name));
	pr_info("listening on %s%s (backlog %d, net.core.somaxconn %d: effective %d)",
		name, status ? " (status endpoints only)" : "", backlog, somax,
		l->backlog);
	return 0;

err_log:
	pr_err_errno(err, "could not listen on \"%s\"", cl->spec);
	return err;
}

void srv_listen_close(struct srv_listener *l, bool unlink_path)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	if (unlink_path && l->cl && l->cl->family == AF_UNIX)
		unlink(l->cl->path);
}

void srv_listen_name(const struct srv_listener *l, char *buf, unsigned int size)
{
	const struct conf_listen *cl = l->cl;
	char host[INET6_ADDRSTRLEN] = "?";

	if (cl->family == AF_UNIX) {
		snprintf(buf, size, "unix:%s", cl->path);
	} else if (cl->family == AF_INET) {
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)&cl->addr)->sin_addr,
			  host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, l->port);
	} else {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)&cl->addr)->sin6_addr,
			  host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, l->port);
	}
}
