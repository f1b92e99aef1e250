/*
 * privs.c - dropping root (the contract is include/run/privs.h).
 *
 * No libcap: prctl(2) for the bounding and ambient sets and
 * no_new_privs, the raw capset(2) system call for the thread's own sets.
 * The order matters: the bounding set can only be shrunk while
 * CAP_SETPCAP is still effective, i.e. before setuid() takes the
 * capabilities away; and the groups go before the user, who could no
 * longer change them.
 *
 * Must not: open or write the files certsentry uses (main.c does).
 */
#define _GNU_SOURCE   /* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "core/fileio.h"
#include "run/privs.h"

/* The effective, permitted and inheritable sets of this thread: all empty? */
static int caps_clear(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

static int caps_empty(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return 0;
	return 1;
}

/* Every capability out of the bounding set (PR_CAPBSET_READ fails past
 * the last one the kernel knows). */
static int bounding_drop(void)
{
	for (unsigned long cap = 0; cap < 1024; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in < 0)
			return 0;
		if (in == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			return -1;
	}
	return 0;
}

int privs_drop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "-u %s: %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (geteuid() != 0 && (getuid() != uid || geteuid() != uid)) {
		snprintf(err, errlen, "-u %s: only root can become another user", user);
		return -1;
	}
	/* While CAP_SETPCAP is still there (root); as another user the
	 * bounding set is already what it can be. */
	if (bounding_drop() < 0 && geteuid() == 0) {
		snprintf(err, errlen, "-u %s: cannot drop the capability bounding set: %s", user,
		         strerror(errno));
		return -1;
	}
	if (geteuid() == 0 &&
	    (initgroups(pw->pw_name, gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	     setresuid(uid, uid, uid) != 0)) {
		snprintf(err, errlen, "-u %s: cannot drop privileges: %s", user, strerror(errno));
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		snprintf(err, errlen, "-u %s: cannot clear the ambient capabilities: %s", user,
		         strerror(errno));
		return -1;
	}
	if (caps_clear() != 0) {
		snprintf(err, errlen, "-u %s: cannot clear the capabilities: %s", user,
		         strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "-u %s: cannot set no_new_privs: %s", user, strerror(errno));
		return -1;
	}
	/* Check that it stuck: neither root nor a capability comes back. */
	if ((uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) ||
	    (gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) || !caps_empty() ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "-u %s: privileges could be regained; refusing to run", user);
		return -1;
	}
	return 0;
}

/* One path, as the user: 0, or -1 with err "PATH: reason". */
static int check_one(const struct privs_path *p, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (p->need == PRIVS_READ) {
		fd = open(p->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "cannot read %s (%s): %s", p->path, p->what,
			         strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	}
	if (fileio_check_writable_dir(p->path, err, errlen) < 0) {
		char why[512];
		size_t pl = strlen(p->path);

		/* fileio says "PATH: cannot write in DIR: reason". */
		snprintf(why, sizeof(why), "%.500s",
		         strncmp(err, p->path, pl) == 0 && err[pl] == ':' ? err + pl + 2 : err);
		snprintf(err, errlen, "cannot write %s (%s): %s", p->path, p->what, why);
		return -1;
	}
	if (p->need == PRIVS_APPEND && stat(p->path, &st) == 0 && S_ISREG(st.st_mode)) {
		fd = open(p->path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "cannot write %s (%s): %s", p->path, p->what,
			         strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

int privs_check(const char *user, const struct privs_path *paths, size_t n, char *err,
                size_t errlen)
{
	char msg[1024] = "";
	int fds[2], status = 0;
	ssize_t got = 0, r;
	pid_t pid;

	if (n == 0)
		return 0;
	if (pipe(fds) != 0) {
		snprintf(err, errlen, "-u %s: %s", user, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "-u %s: cannot fork: %s", user, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* The child: become the user, try every path, say the first
		 * failure.  _exit: the parent's stdio buffers are not ours to
		 * flush. */
		char cerr[1024];
		int rc = 0;

		close(fds[0]);
		if (privs_drop(user, cerr, sizeof(cerr)) < 0) {
			rc = 1;
		} else {
			for (size_t i = 0; i < n && !rc; i++)
				if (check_one(&paths[i], cerr, sizeof(cerr)) < 0)
					rc = 1;
			if (rc) {
				char tmp[1024];

				snprintf(tmp, sizeof(tmp), "%s", cerr);
				snprintf(cerr, sizeof(cerr), "-u %.100s: %.900s", user, tmp);
			}
		}
		if (rc && write(fds[1], cerr, strlen(cerr)) < 0)
			rc = 2;
		_exit(rc);
	}
	close(fds[1]);
	while ((size_t)got < sizeof(msg) - 1 &&
	       ((r = read(fds[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0 ||
	        (r < 0 && errno == EINTR)))
		if (r > 0)
			got += r;
	msg[got] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s", *msg ? msg : "-u: the check of the paths failed");
	return -1;
}
