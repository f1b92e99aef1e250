/*
 * keylog.c - NSS key logs (the contract is include/secrets/keylog.h).
 *
 * Entries sit in one array, in the order read; an open-addressing table
 * of 32-bit indexes (linear probing, at most half full) finds a random's
 * entry with SipHash under a key drawn at start-up.  A million-line log
 * costs ~81 bytes an entry plus 4-8 bytes of table per entry, and a
 * look-up touches one or two table slots and one entry.
 *
 * The log is the user's file, but a line of it is still input: every
 * field is checked (length, hex digits, secret of 32 or 48 bytes) and a
 * line that fails is counted as malformed, never half-used.  Damage in
 * the middle of a file (binary garbage, a line without end) costs the
 * lines it spoils, not the ones around it: lines split on '\n' whatever
 * is between, and an overlong line is skipped to its end.  Each file's
 * malformed lines are counted with the first one's number, for
 * keylog_report.
 *
 * Only regular files are read (fileio_open_regular: /dev/zero or a FIFO
 * would stream forever or block), and at most CS_KEYLOG_MAX_BYTES of one.
 *
 * Must not: decrypt (tls13.c does).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cs_limits.h"
#include "core/digest.h"
#include "core/fileio.h"
#include "secrets/keylog.h"

#define LABEL_SHTS     "SERVER_HANDSHAKE_TRAFFIC_SECRET"
#define READ_CHUNK     (64u * 1024u)
#define SLOTS_MIN      32u
/* Entries are indexed by uint32_t (0 = empty slot): at most this many. */
#define ENTRIES_MAX    0x7fffffffu

struct kl_entry {
	uint8_t random[TLS13_RANDOM_LEN];
	uint8_t secret[TLS13_MAX_SECRET];
	uint8_t len;
};

/* A file and where reading it stopped: the byte after the last complete
 * line taken. */
struct kl_file {
	char *path;            /* owned copy */
	off_t off;
	uint64_t lineno;       /* complete lines read before off */
	uint64_t malformed;    /* ... of them malformed */
	uint64_t first_bad;    /* the first one's number (from 1) */
	int over_limit;        /* longer than CS_KEYLOG_MAX_BYTES: read up to it */
};

/* Bytes of a line that spans two reads. */
struct kl_line {
	char buf[KEYLOG_MAX_LINE + 1];
	size_t len;
	int overlong;          /* longer than KEYLOG_MAX_LINE: skipped to its end */
};

struct keylog {
	pthread_rwlock_t lock;  /* find: read; add and refresh: write */
	uint8_t hkey[16];
	struct kl_entry *ent;   /* owned array of n (cap allocated) */
	size_t n, cap;
	uint32_t *slot;         /* owned; index + 1 into ent, 0 empty */
	size_t n_slots;         /* a power of two */
	struct kl_file files[KEYLOG_MAX_FILES];
	size_t n_files;
	struct keylog_counts c; /* lookups and hits: atomic adds (readers) */
};

struct keylog *keylog_new(void)
{
	struct keylog *kl = calloc(1, sizeof *kl);   /* owned by the caller */

	if (!kl)
		return NULL;
	if (getrandom(kl->hkey, sizeof kl->hkey, 0) != (ssize_t)sizeof kl->hkey ||
	    pthread_rwlock_init(&kl->lock, NULL) != 0) {
		free(kl);
		return NULL;
	}
	return kl;
}

void keylog_free(struct keylog *kl)
{
	if (!kl)
		return;
	for (size_t i = 0; i < kl->n_files; i++)
		free(kl->files[i].path);
	/* Secrets do not outlive the process's need for them. */
	if (kl->ent)
		memset(kl->ent, 0, kl->cap * sizeof *kl->ent);
	free(kl->ent);
	free(kl->slot);
	pthread_rwlock_destroy(&kl->lock);
	free(kl);
}

/* ---- the table ---------------------------------------------------------- */

static size_t slot_of(const struct keylog *kl, const uint8_t *random)
{
	return (size_t)digest_siphash(kl->hkey, random, TLS13_RANDOM_LEN) & (kl->n_slots - 1);
}

/* The slot holding random, or the empty slot where it would go. */
static size_t probe(const struct keylog *kl, const uint8_t *random)
{
	size_t i = slot_of(kl, random);

	while (kl->slot[i] != 0 &&
	       memcmp(kl->ent[kl->slot[i] - 1].random, random, TLS13_RANDOM_LEN) != 0)
		i = (i + 1) & (kl->n_slots - 1);
	return i;
}

static int rehash(struct keylog *kl, size_t n_slots)
{
	uint32_t *old = kl->slot;
	size_t old_n = kl->n_slots;

	kl->slot = calloc(n_slots, sizeof *kl->slot);   /* owned by kl */
	if (!kl->slot) {
		kl->slot = old;
		return -1;
	}
	kl->n_slots = n_slots;
	for (size_t i = 0; i < old_n; i++)
		if (old[i] != 0)
			kl->slot[probe(kl, kl->ent[old[i] - 1].random)] = old[i];
	free(old);
	return 0;
}

/* Room for one more entry: the array and a table at most half full. */
static int reserve(struct keylog *kl)
{
	if (kl->n >= ENTRIES_MAX)
		return -1;
	if (kl->n == kl->cap) {
		size_t cap = kl->cap ? 2 * kl->cap : SLOTS_MIN / 2;
		struct kl_entry *e = realloc(kl->ent, cap * sizeof *e);   /* owned by kl */

		if (!e)
			return -1;
		kl->ent = e;
		kl->cap = cap;
	}
	if (2 * (kl->n + 1) > kl->n_slots)
		return rehash(kl, kl->n_slots ? 2 * kl->n_slots : SLOTS_MIN);
	return 0;
}

/* 1 added, 0 replaced or unchanged, -1 out of memory. */
static int insert(struct keylog *kl, const uint8_t *random, const uint8_t *secret, size_t len)
{
	size_t i;
	struct kl_entry *e;

	if (reserve(kl) < 0)
		return -1;
	i = probe(kl, random);
	if (kl->slot[i] != 0) {
		e = &kl->ent[kl->slot[i] - 1];
		if (e->len != len || memcmp(e->secret, secret, len) != 0)
			kl->c.replaced++;
		memcpy(e->secret, secret, len);
		e->len = (uint8_t)len;
		return 0;
	}
	e = &kl->ent[kl->n];
	memcpy(e->random, random, TLS13_RANDOM_LEN);
	memcpy(e->secret, secret, len);
	e->len = (uint8_t)len;
	kl->slot[i] = (uint32_t)(kl->n + 1);
	__atomic_store_n(&kl->n, kl->n + 1, __ATOMIC_RELEASE);   /* keylog_empty */
	kl->c.entries++;
	return 1;
}

/* ---- lines -------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2 * n hex digits into n bytes.  0 or -1. */
static int unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next whitespace-separated field of [*p, end). */
static size_t field(const char **p, const char *end, const char **start)
{
	while (*p < end && is_space(**p))
		(*p)++;
	*start = *p;
	while (*p < end && !is_space(**p))
		(*p)++;
	return (size_t)(*p - *start);
}

/* One line without its '\n'.  Returns 1 when an entry was added, -1
 * when the line is malformed, 0 otherwise. */
static int parse_line(struct keylog *kl, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *label, *rnd, *sec, *extra;
	size_t n_label, n_rnd, n_sec;
	uint8_t random[TLS13_RANDOM_LEN], secret[TLS13_MAX_SECRET];
	int rc;

	kl->c.lines++;
	n_label = field(&p, end, &label);
	if (n_label == 0 || label[0] == '#')
		return 0;                       /* blank or comment */
	n_rnd = field(&p, end, &rnd);
	n_sec = field(&p, end, &sec);
	if (n_rnd == 0 || n_sec == 0 || field(&p, end, &extra) != 0) {
		kl->c.malformed++;
		return -1;
	}
	if (n_label != strlen(LABEL_SHTS) || memcmp(label, LABEL_SHTS, n_label) != 0)
		return 0;                       /* another secret: not needed */
	if (unhex(rnd, n_rnd, random, sizeof random) < 0 ||
	    (n_sec != 64 && n_sec != 96) || unhex(sec, n_sec, secret, n_sec / 2) < 0) {
		kl->c.malformed++;
		return -1;
	}
	rc = insert(kl, random, secret, n_sec / 2);
	memset(secret, 0, sizeof secret);
	return rc == 1;
}

/* A complete line of file f (NULL: not a file) was taken: rc is what
 * parse_line said, or -1 for an overlong line. */
static void line_done(struct kl_file *f, int rc)
{
	if (!f)
		return;
	f->lineno++;
	if (rc < 0 && f->malformed++ == 0)
		f->first_bad = f->lineno;
}

/* Feed bytes; complete lines are parsed.  Returns the entries added. */
static size_t feed(struct keylog *kl, struct kl_file *f, struct kl_line *ln, const char *p,
                   size_t n)
{
	size_t added = 0;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (!ln->overlong && take > KEYLOG_MAX_LINE - ln->len) {
			ln->overlong = 1;
			kl->c.lines++;
			kl->c.malformed++;
		}
		if (!ln->overlong) {
			memcpy(ln->buf + ln->len, p, take);
			ln->len += take;
		}
		if (!nl)
			return added;
		if (!ln->overlong) {
			int rc = parse_line(kl, ln->buf, ln->len);

			added += rc > 0;
			line_done(f, rc);
		} else {
			line_done(f, -1);
		}
		ln->len = 0;
		ln->overlong = 0;
		p = nl + 1;
		n -= take + 1;
	}
	return added;
}

/* The line left without its newline at the end of the input. */
static size_t feed_end(struct keylog *kl, struct kl_file *f, struct kl_line *ln)
{
	size_t added = 0;

	if (ln->len > 0 && !ln->overlong) {
		int rc = parse_line(kl, ln->buf, ln->len);

		added = rc > 0;
		line_done(f, rc);
	} else if (ln->overlong) {
		line_done(f, -1);
	}
	ln->len = 0;
	ln->overlong = 0;
	return added;
}

size_t keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len)
{
	struct kl_line *ln = calloc(1, sizeof *ln);   /* freed here */
	size_t added = 0;

	if (!ln)
		return 0;
	pthread_rwlock_wrlock(&kl->lock);
	added = feed(kl, NULL, ln, (const char *)text, len);
	added += feed_end(kl, NULL, ln);
	pthread_rwlock_unlock(&kl->lock);
	free(ln);
	return added;
}

static const char *last_newline(const char *p, size_t n)
{
	while (n > 0)
		if (p[--n] == '\n')
			return p + n;
	return NULL;
}

/* Read f from its offset to the end (or to CS_KEYLOG_MAX_BYTES); the
 * offset moves past the last complete line (past everything when final).
 * Called with the write lock held.  Returns the entries added, or -1
 * with err "PATH: reason". */
static long read_file(struct keylog *kl, struct kl_file *f, int final, char *err,
                      size_t errlen)
{
	struct kl_line *ln = calloc(1, sizeof *ln);   /* freed here */
	char *chunk = malloc(READ_CHUNK);             /* freed here */
	size_t added = 0;
	off_t pos, line_start;
	struct stat st;
	long rc = -1;
	FILE *fp = NULL;
	int fd;

	if (!ln || !chunk) {
		snprintf(err, errlen, "%s: out of memory", f->path);
		goto out;
	}
	/* A regular file only: /dev/zero would never end, a FIFO would
	 * block the thread that refreshes (a worker's, live). */
	fp = fileio_open_regular(f->path, 0, 0, err, errlen);
	if (!fp)
		goto out;
	fd = fileno(fp);
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		goto out;
	}
	if (st.st_size < f->off) {
		/* Truncated or replaced: read it anew. */
		f->off = 0;
		f->lineno = 0;
	}
	pos = line_start = f->off;
	for (;;) {
		size_t want = READ_CHUNK;
		ssize_t got;
		const char *last;

		if ((uint64_t)pos >= CS_KEYLOG_MAX_BYTES) {
			if (!f->over_limit) {
				f->over_limit = 1;
				kl->c.over_limit++;
			}
			break;
		}
		if (CS_KEYLOG_MAX_BYTES - (uint64_t)pos < want)
			want = (size_t)(CS_KEYLOG_MAX_BYTES - (uint64_t)pos);
		got = pread(fd, chunk, want, pos);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		added += feed(kl, f, ln, chunk, (size_t)got);
		last = last_newline(chunk, (size_t)got);
		pos += got;
		if (last)
			line_start = pos - (off_t)(chunk + got - last) + 1;
	}
	if (final) {
		added += feed_end(kl, f, ln);
		line_start = pos;
	} else if (ln->len > 0 || ln->overlong) {
		/* Half a line: read again from its start next time, so its
		 * bytes are not counted twice. */
		kl->c.lines -= ln->overlong ? 1 : 0;
		kl->c.malformed -= ln->overlong ? 1 : 0;
	}
	f->off = line_start;
	rc = (long)added;
out:
	if (fp)
		fclose(fp);
	free(chunk);
	free(ln);
	return rc;
}

int keylog_add_file(struct keylog *kl, const char *path, int final, char *err,
                    size_t errlen)
{
	struct kl_file *f;
	long rc;

	if (kl->n_files >= KEYLOG_MAX_FILES) {
		snprintf(err, errlen, "%s: more than %u key log files", path, KEYLOG_MAX_FILES);
		return -1;
	}
	pthread_rwlock_wrlock(&kl->lock);
	f = &kl->files[kl->n_files];
	f->path = strdup(path);   /* owned by kl; keylog_free */
	f->off = 0;
	if (!f->path) {
		pthread_rwlock_unlock(&kl->lock);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	f->lineno = f->malformed = f->first_bad = 0;
	f->over_limit = 0;
	rc = read_file(kl, f, final, err, errlen);
	if (rc < 0) {
		free(f->path);
		f->path = NULL;
		pthread_rwlock_unlock(&kl->lock);
		return -1;
	}
	__atomic_store_n(&kl->n_files, kl->n_files + 1, __ATOMIC_RELEASE);   /* keylog_empty */
	pthread_rwlock_unlock(&kl->lock);
	return 0;
}

size_t keylog_refresh(struct keylog *kl)
{
	size_t added = 0;

	pthread_rwlock_wrlock(&kl->lock);
	for (size_t i = 0; i < kl->n_files; i++) {
		char err[512];
		/* A file that went away or became a FIFO is left for the
		 * next refresh: what was read stays. */
		long rc = read_file(kl, &kl->files[i], 0, err, sizeof(err));

		if (rc > 0)
			added += (size_t)rc;
	}
	pthread_rwlock_unlock(&kl->lock);
	return added;
}

int keylog_find(struct keylog *kl, const uint8_t random[TLS13_RANDOM_LEN],
                uint8_t secret[TLS13_MAX_SECRET], size_t *len)
{
	int found = 0;

	__atomic_fetch_add(&kl->c.lookups, 1, __ATOMIC_RELAXED);
	pthread_rwlock_rdlock(&kl->lock);
	if (kl->n_slots > 0) {
		uint32_t idx = kl->slot[probe(kl, random)];

		if (idx != 0) {
			const struct kl_entry *e = &kl->ent[idx - 1];

			memcpy(secret, e->secret, e->len);
			*len = e->len;
			found = 1;
		}
	}
	pthread_rwlock_unlock(&kl->lock);
	if (found)
		__atomic_fetch_add(&kl->c.hits, 1, __ATOMIC_RELAXED);
	return found;
}

int keylog_empty(const struct keylog *kl)
{
	/* Engines ask while a pcapng input's secrets are being added. */
	return __atomic_load_n(&kl->n_files, __ATOMIC_ACQUIRE) == 0 &&
	       __atomic_load_n(&kl->n, __ATOMIC_ACQUIRE) == 0;
}

void keylog_report(struct keylog *kl, FILE *out)
{
	pthread_rwlock_rdlock(&kl->lock);
	for (size_t i = 0; i < kl->n_files; i++) {
		const struct kl_file *f = &kl->files[i];

		if (f->malformed)
			fprintf(out, "certsentry: --keylog %s: %llu malformed lines, first at line "
			        "%llu\n", f->path, (unsigned long long)f->malformed,
			        (unsigned long long)f->first_bad);
		if (f->over_limit)
			fprintf(out, "certsentry: --keylog %s: longer than %llu bytes, read up to "
			        "there\n", f->path, (unsigned long long)CS_KEYLOG_MAX_BYTES);
	}
	pthread_rwlock_unlock(&kl->lock);
}

size_t keylog_files(const struct keylog *kl)
{
	return kl->n_files;
}

void keylog_counts(struct keylog *kl, struct keylog_counts *out)
{
	pthread_rwlock_rdlock(&kl->lock);
	*out = kl->c;
	out->lookups = __atomic_load_n(&kl->c.lookups, __ATOMIC_RELAXED);
	out->hits = __atomic_load_n(&kl->c.hits, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&kl->lock);
}
