/*
 * coverage.h - what was checked, per owner and protected asset: for every
 * handshake an owner is concerned by, under each protected entry it
 * matched (ip:1.1.1.1, sni:cloudflare-dns.com, san-ip:...), whether its
 * certificates were verified (TLS 1.0-1.2, or TLS 1.3 decrypted with a
 * key log), only its fingerprint was compared, or it was not checked at
 * all, and why.  A SOC reads from one line that an asset's traffic went
 * unchecked.
 *
 * One table for the process, shared by every engine (a mutex: it is
 * touched once per reported handshake, never per packet).  Owner and
 * asset names are copied, so a SIGHUP reload does not pull them away.
 */
#ifndef CS_COVERAGE_H
#define CS_COVERAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Rows kept (owner, asset); a handshake for a new one past it is counted
 * in coverage_dropped. */
#define COVERAGE_MAX_ROWS 4096u

enum coverage_class {
	COV_VERIFIED = 0,       /* certificates checked: TLS 1.0-1.2 */
	COV_VERIFIED_TLS13,     /* certificates checked: TLS 1.3, decrypted */
	COV_FINGERPRINT,        /* TLS 1.3 compared with its baseline only */
	COV_RESUMED,            /* no certificate sent: resumed, PSK */
	COV_MIDSTREAM,          /* TLS 1.3 without its ClientHello: no key to find */
	COV_NO_KEYLOG,          /* TLS 1.3, no key log and no baseline */
	COV_NO_KEY,             /* TLS 1.3, the key log had no secret for it */
	COV_DECRYPT_FAILED,     /* TLS 1.3, a record failed authentication or was malformed */
	COV_UNSUPPORTED,        /* TLS 1.3 suite not read (CCM, drafts) */
	COV_INCOMPLETE,         /* ended early: gap, limit, malformed, flow end */
	COV_N
};

/* "verified", "verified_tls13", "fingerprint", "resumed", "midstream",
 * "no_keylog", "no_key", "decryption_failed", "unsupported", "incomplete" */
const char *coverage_class_name(enum coverage_class c);
/* Is this class "not checked at all"? */
int coverage_unchecked(enum coverage_class c);

struct coverage_row {
	char owner[64];
	char asset[96];
	uint64_t n[COV_N];
};

struct coverage;

struct coverage *coverage_new(void);
void coverage_free(struct coverage *c);

/* One handshake for owner, under asset. */
void coverage_count(struct coverage *c, const char *owner, const char *asset,
                    enum coverage_class cls);

/* A copy of the rows, sorted by owner and asset: at most max into out
 * (owned by the caller).  Returns how many there are; *dropped gets the
 * handshakes not counted for want of a row. */
size_t coverage_rows(struct coverage *c, struct coverage_row *out, size_t max,
                     uint64_t *dropped);

/* "  coverage: OWNER ASSET: verified N (TLS 1.3 decrypted N), fingerprint
 * only N, not checked N (no key log N, ...)" lines for the summary. */
void coverage_print(struct coverage *c, FILE *f);

#endif
