/*
 * config.h - the configuration file's syntax (sensor/run/config.c): one
 * setting a line, "name = value", '#' starting a comment (a whole line,
 * or after whitespace), values optionally in double quotes (for spaces,
 * a '#', or an empty value; \" and \\ inside).  What a name means is not
 * known here: each setting goes to a callback (options.c applies it with
 * the command line's own handlers).  docs/configuration.md has the syntax.
 *
 * The file is hostile input: a regular file of at most CONFIG_MAX_FILE
 * bytes, lines of at most CONFIG_MAX_LINE bytes, text only; a line over
 * the limit is an error naming it (FILE:LINE), never cut silently.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_LINE  4096u            /* bytes of one line, newline excluded */
#define CONFIG_MAX_FILE  (1024u * 1024u)  /* bytes of one configuration file */
#define CONFIG_MAX_NAME  64u              /* bytes of a setting's name */

/* One setting: name and value are NUL-terminated and valid for the call
 * only (copy what is kept).  0, or -1 with why set (the caller's
 * message for this line). */
typedef int (*config_setting_fn)(void *ctx, const char *name, const char *value,
                                 unsigned line, char *why, size_t whylen);

/* Every setting of buf, in order, to fn.  0, or -1 with *line the line
 * at fault (1-based) and why the reason (the syntax's, or fn's). */
int config_parse(const uint8_t *buf, size_t len, config_setting_fn fn, void *ctx,
                 unsigned *line, char *why, size_t whylen);

/* path read (fileio: a regular file, bounded) and parsed.  0, or -1 with
 * err "PATH:LINE: reason" (or "PATH: reason" when it cannot be read). */
int config_read(const char *path, config_setting_fn fn, void *ctx, char *err,
                size_t errlen);

#endif
