/*
 * privs.h - giving up root: to -u USER, with every capability dropped and
 * no way back (no_new_privs), in every mode, once inputs and outputs are
 * open and before the first hostile byte is parsed; and the check, made
 * before that, that USER can write what certsentry writes later.
 *
 * Must not: know which files certsentry writes (main.c says).
 */
#ifndef CS_PRIVS_H
#define CS_PRIVS_H

#include <stddef.h>

/* Become user: supplementary groups, group and user (real, effective and
 * saved), then check that root cannot be regained; every capability out
 * of the bounding, ambient, inheritable, permitted and effective sets;
 * PR_SET_NO_NEW_PRIVS.  The process must still be single-threaded
 * (capabilities and no_new_privs are per thread).  A process that is not
 * root may name its own user (capabilities are dropped all the same).
 * 0, or -1 with err "-u USER: reason". */
int privs_drop(const char *user, char *err, size_t errlen);

/* What certsentry will do with a path after the drop. */
enum privs_need {
	PRIVS_WRITE_DIR,      /* create and rename in its directory (or in it,
	                         when it is a directory) */
	PRIVS_APPEND,         /* the above, and append to it when it exists */
	PRIVS_READ,           /* read it */
};

struct privs_path {
	const char *path;
	const char *what;     /* the option, for the message: "--state" */
	enum privs_need need;
};

/* Check, as user (a child process that drops privileges and tries),
 * that every path can be used as it will be.  0, or -1 with err
 * "-u USER: cannot write PATH (--OPTION): reason" for the first that
 * cannot. */
int privs_check(const char *user, const struct privs_path *paths, size_t n, char *err,
                size_t errlen);

#endif
