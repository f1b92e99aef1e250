/*
 * keylog.h - TLS key logs in the NSS format (what SSLKEYLOGFILE, curl,
 * browsers and `openssl s_client -keylogfile` write), mapping a
 * ClientHello random to the server handshake traffic secret that reads
 * the server's encrypted TLS 1.3 handshake.
 *
 * A line is `LABEL <client_random hex> <secret hex>`; '#' starts a
 * comment; every label but SERVER_HANDSHAKE_TRAFFIC_SECRET is ignored
 * (the others open other parts of the session, which certsentry does not
 * read).  Look-ups cost one keyed hash and a probe or two, however many
 * lines the log has.
 *
 * Files keep being read where they were left (keylog_refresh), for a key
 * log that a browser is still appending to.  Look-ups may run on several
 * threads at once, alongside one refresh (a reader-writer lock inside).
 */
#ifndef CS_KEYLOG_H
#define CS_KEYLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "secrets/tls13.h"

/* A key log line longer than this is malformed (counted, skipped): the
 * longest valid line, a 48-byte secret, is 31 + 1 + 64 + 1 + 96 bytes. */
#define KEYLOG_MAX_LINE   1024u
/* Files given with --keylog. */
#define KEYLOG_MAX_FILES  64u

struct keylog;

struct keylog_counts {
	uint64_t lines;       /* lines read, comments and blank ones included */
	uint64_t entries;     /* distinct client randoms with a server handshake secret */
	uint64_t malformed;   /* lines that are not LABEL HEX HEX, or too long */
	uint64_t replaced;    /* a later line gave a random a new secret */
	uint64_t over_limit;  /* files longer than CS_KEYLOG_MAX_BYTES (read up to it) */
	uint64_t lookups, hits;
};

/* NULL when out of memory. */
struct keylog *keylog_new(void);
void keylog_free(struct keylog *kl);

/* Read a file now, and remember it for keylog_refresh.  Only a regular
 * file (a FIFO, socket or device is refused: it could block or never
 * end), and at most CS_KEYLOG_MAX_BYTES of it (counted in over_limit).  A last line
 * without its newline is taken only when final (a file that is complete,
 * as with -r; live, it may be half-written and waits for the next
 * refresh).  -1 with err "FILE: reason" when it cannot be read. */
int keylog_add_file(struct keylog *kl, const char *path, int final, char *err,
                    size_t errlen);

/* Lines from memory (a pcapng Decryption Secrets Block); a last line
 * without a newline is taken.  Returns the entries added. */
size_t keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len);

/* Read what was appended to the files since they were last read.
 * Returns the entries added.  A file that shrank (rotated, truncated) is
 * read again from its start. */
size_t keylog_refresh(struct keylog *kl);

/* The server handshake traffic secret of the session whose ClientHello
 * carried random: 1 and the secret in secret[0..*len), or 0. */
int keylog_find(struct keylog *kl, const uint8_t random[TLS13_RANDOM_LEN],
                uint8_t secret[TLS13_MAX_SECRET], size_t *len);

/* Does the log hold any file or entry at all?  Safe alongside
 * keylog_add_text on another thread. */
int keylog_empty(const struct keylog *kl);

/* One line on out for each file with malformed lines ("--keylog FILE:
 * N malformed lines, first at line L") or read only up to
 * CS_KEYLOG_MAX_BYTES; nothing for the others. */
void keylog_report(struct keylog *kl, FILE *out);
size_t keylog_files(const struct keylog *kl);

void keylog_counts(struct keylog *kl, struct keylog_counts *out);

#endif
