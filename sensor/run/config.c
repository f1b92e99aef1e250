/*
 * config.c - the configuration file's syntax (see include/run/config.h).
 * A line is read whole into a bounded buffer, then split into its name
 * and value by a small scanner; the meaning of names is options.c's.
 *
 * Owns: the file's bytes while it is parsed (freed before returning).
 * Must not: know any option (a second list of names would drift from
 * getopt's table).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "run/config.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A quoted value from s (just past the opening quote) into out: the
 * rest of the line may hold only whitespace or a comment.  0 or -1. */
static int quoted(const char *s, char *out, char *why, size_t whylen)
{
	size_t n = 0;

	for (; *s && *s != '"'; s++) {
		if (*s == '\\') {
			if (s[1] != '"' && s[1] != '\\')
				return say(why, whylen, "in a quoted value only \\\" and \\\\ "
				           "are escapes");
			s++;
		}
		out[n++] = *s;   /* the value is shorter than the line it is in */
	}
	if (*s != '"')
		return say(why, whylen, "a quoted value has no closing quote");
	out[n] = '\0';
	for (s++; is_space(*s); s++)
		;
	if (*s && *s != '#')
		return say(why, whylen, "text after the closing quote: '%s'", s);
	return 0;
}

/* An unquoted value: up to a '#' that follows whitespace (a comment),
 * trailing whitespace dropped.  A '#' inside a word (a URL's fragment,
 * a password) belongs to the value. */
static void plain(const char *s, char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '#' && (n == 0 || is_space(s[-1])))
			break;
		out[n++] = *s;
	}
	while (n && is_space(out[n - 1]))
		n--;
	out[n] = '\0';
}

/* One line (NUL-terminated, no newline) to fn: 0 or -1 with why set. */
static int parse_line(char *s, unsigned line, config_setting_fn fn, void *ctx, char *why,
                      size_t whylen)
{
	char name[CONFIG_MAX_NAME + 1], value[CONFIG_MAX_LINE + 1];
	size_t n = 0;

	while (is_space(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	while (is_name_char(s[n]))
		n++;
	if (n == 0)
		return say(why, whylen, "expected 'name = value', a name being a long option "
		           "without '--' (lower case, digits, '-')");
	if (n > CONFIG_MAX_NAME)
		return say(why, whylen, "a name longer than %u bytes", CONFIG_MAX_NAME);
	memcpy(name, s, n);
	name[n] = '\0';
	for (s += n; is_space(*s); s++)
		;
	if (*s != '=')
		return say(why, whylen, "expected '=' after '%s' (name = value)", name);
	for (s++; is_space(*s); s++)
		;
	if (*s == '"') {
		if (quoted(s + 1, value, why, whylen) < 0)
			return -1;
	} else {
		plain(s, value);
		if (value[0] == '\0')
			return say(why, whylen, "'%s' has no value (\"\" for an empty one)", name);
	}
	return fn(ctx, name, value, line, why, whylen);
}

/* Text only: a NUL or another control byte (but tab and CR) says a
 * binary or damaged file, better refused than read as settings. */
static long not_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\r') || p[i] == 0x7f)
			return (long)i;
	return -1;
}

int config_parse(const uint8_t *buf, size_t len, config_setting_fn fn, void *ctx,
                 unsigned *line, char *why, size_t whylen)
{
	char text[CONFIG_MAX_LINE + 1];
	size_t pos = 0;

	*line = 0;
	while (pos < len) {
		const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		long col;

		(*line)++;
		if (n > CONFIG_MAX_LINE)
			return say(why, whylen, "line longer than %u bytes (CONFIG_MAX_LINE)",
			           CONFIG_MAX_LINE);
		col = not_text(buf + pos, n);
		if (col >= 0)
			return say(why, whylen, "not text: byte 0x%02x at column %ld (a damaged or "
			           "binary file?)", buf[pos + (size_t)col], col + 1);
		memcpy(text, buf + pos, n);
		text[n] = '\0';
		if (parse_line(text, *line, fn, ctx, why, whylen) < 0)
			return -1;
		pos += n + (nl != NULL);
	}
	return 0;
}

int config_read(const char *path, config_setting_fn fn, void *ctx, char *err, size_t errlen)
{
	char why[1024];
	uint8_t *buf = NULL;   /* owned here; freed below */
	size_t len = 0;
	unsigned line = 0;
	int rc;

	if (fileio_read_all(path, CONFIG_MAX_FILE, &buf, &len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	rc = config_parse(buf, len, fn, ctx, &line, why, sizeof(why));
	free(buf);
	if (rc < 0)
		snprintf(err, errlen, "%s:%u: %s", path, line, why);
	return rc;
}
