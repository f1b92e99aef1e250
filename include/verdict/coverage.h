/*
 * coverage.h - what was checked, per owner and protected asset: for every
 * handshake an owner is concerned by, under each protected entry of its
 * rules that the handshake matched (the asset: "ip 1.0.0.0/24", "name
 * *.example.com", as --check-rules lists them), whether its chain was read
 * and approved, read and alerting, compared by fingerprint only, or not
 * checked at all, and why.  A SOC reads from one line that an asset's
 * traffic went unchecked, and from one line at the top of the summary how
 * many handshakes went unchecked in all and what to do about it.
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

/* How far one handshake was checked, for one owner.  The first four are
 * checks; the rest are the reasons a handshake was not checked. */
enum coverage_class {
	COV_APPROVED = 0,       /* chain read (TLS 1.0-1.2, or TLS 1.3 and QUIC
	                           decrypted) and approved */
	COV_ALERTING,           /* chain read and not approved, or its bytes
	                           differed between copies: an alert */
	COV_FINGERPRINT,        /* TLS 1.3 not read, its fingerprint matched */
	COV_FP_CHANGED,         /* TLS 1.3 not read, its fingerprint changed:
	                           an alert */
	COV_TLS13_NO_KEYLOG,    /* TLS 1.3 over TCP, no key log and no baseline */
	COV_QUIC_NO_KEYLOG,     /* QUIC, no key log and no baseline */
	COV_NO_KEY,             /* TLS 1.3 or QUIC, the key log had no secret */
	COV_MIDSTREAM,          /* TLS 1.3 without its ClientHello: no key to find */
	COV_DECRYPT_FAILED,     /* a record failed authentication, or was bad
	                           once decrypted */
	COV_UNSUPPORTED,        /* a TLS 1.3 suite not read (CCM, drafts) */
	COV_RESUMED,            /* resumed, PSK: no certificate was sent */
	COV_GAP,                /* a hole in the stream: packets lost */
	COV_TRUNCATED,          /* the connection, or the capture, ended first */
	COV_LIMIT,              /* a limit ended inspection */
	COV_MALFORMED,          /* the handshake was malformed */
	COV_N
};

/* What a class adds to: the four counts of a coverage line. */
enum coverage_group {
	COV_G_APPROVED = 0,
	COV_G_ALERTING,
	COV_G_FINGERPRINT,
	COV_G_UNCHECKED,
	COV_G_N
};

/* How a handshake matched an asset (the kind of policy_result.matched). */
enum coverage_match {
	COV_M_IP = 0,           /* the server address */
	COV_M_SNI,              /* the ClientHello's server name */
	COV_M_SAN_IP,           /* a SAN iPAddress of the leaf */
	COV_M_SAN_DNS,          /* a SAN dNSName of the leaf */
	COV_M_CN,               /* the leaf's commonName */
	COV_M_N
};

/* The class's key in EVE and metrics (snake_case: "approved",
 * "tls13_no_keylog", "gap", ...). */
const char *coverage_class_name(enum coverage_class c);
/* The class in the summary's words ("TLS 1.3 without a key log"). */
const char *coverage_class_text(enum coverage_class c);
/* What to do about a class that was not checked ("give --keylog ..."). */
const char *coverage_class_hint(enum coverage_class c);
enum coverage_group coverage_group_of(enum coverage_class c);
/* "approved", "alerting", "fingerprint_only", "not_checked" */
const char *coverage_group_name(enum coverage_group g);
/* Is this class "not checked at all"? */
int coverage_unchecked(enum coverage_class c);
/* "ip", "sni", "san_ip", "san_dns", "cn" */
const char *coverage_match_name(enum coverage_match m);
/* The kind of a policy match "san-ip:1.1.1.1"; -1 when unknown. */
int coverage_match_of(const char *matched);

struct coverage_row {
	char owner[64];
	char type[8];                /* "ip", "name" or "zone", as --check-rules */
	char asset[96];              /* the entry as the rules wrote it */
	uint64_t n[COV_N];           /* handshakes, by class */
	uint64_t by_match[COV_M_N];  /* handshakes that matched it this way
	                                (one handshake may count in several) */
};

/* A row's handshakes in all, and in one group. */
uint64_t coverage_row_total(const struct coverage_row *r);
uint64_t coverage_row_group(const struct coverage_row *r, enum coverage_group g);

struct coverage;

struct coverage *coverage_new(void);
void coverage_free(struct coverage *c);

/* One handshake for owner, under asset (type "ip" or "name", entry as the
 * rules wrote it), matched in the ways of the bits (1 << COV_M_*). */
void coverage_count(struct coverage *c, const char *owner, const char *type,
                    const char *asset, enum coverage_class cls, unsigned match_bits);
/* The same handshake once for the whole run, whatever the owners and
 * assets it concerned: what the summary's first coverage fact counts.
 * cls: the handshake's, alerting when any owner's was. */
void coverage_handshake(struct coverage *c, enum coverage_class cls);

/* Handshakes at a protected asset, by class (coverage_handshake). */
void coverage_totals(struct coverage *c, uint64_t out[COV_N]);

/* A copy of the rows at most max into out (owned by the caller), in the
 * order the summary shows them: rows with handshakes not checked first,
 * most of them first, then by owner, type and asset.  Returns how many
 * there are; *dropped gets the handshakes not counted for want of a row. */
size_t coverage_rows(struct coverage *c, struct coverage_row *out, size_t max,
                     uint64_t *dropped);

/* The summary's key fact, one line: "  4 of 8 handshakes at protected
 * assets went unchecked: TLS 1.3 without a key log 4; give --keylog ...",
 * or that all were checked, or that none was seen; nothing when there are
 * no owners (no rules). */
void coverage_print_fact(struct coverage *c, size_t owners, FILE *f);
/* "  coverage: OWNER TYPE ASSET: N handshakes: not checked N (why N, ...),
 * approved N, alerting N, fingerprint only N" lines, one an asset, the
 * not-checked share first when it is not zero. */
void coverage_print(struct coverage *c, FILE *f);

#endif
