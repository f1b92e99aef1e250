/*
 * policy.c - which owners a handshake concerns, and whether its chain is
 * approved by each of them (see include/verdict/policy.h, DESIGN.md "Approval").
 *
 * Approval is path building by OpenSSL with the owner's approved CA
 * certificates and the presented certificates whose SPKI is pinned as the
 * only anchors: every signature from the leaf up to an anchor must verify.
 * Dates, purpose, EKU, policies and name constraints are left out of the
 * decision; signatures, issuer look-up and basicConstraints are not (a
 * leaf key signing a certificate is the oldest interception trick).
 *
 * Must not: read rules files (rules.c) or write output.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "verdict/policy.h"
#include "verdict/reason.h"
#include "verdict/rules.h"

static const char *const verdict_names[VERDICT_COUNT] = {
	[VERDICT_APPROVED] = "approved",
	[VERDICT_SELF_SIGNED] = "self-signed",
	[VERDICT_FORGED_ISSUER] = "forged-issuer",
	[VERDICT_UNAPPROVED_ISSUER] = "unapproved-issuer",
	[VERDICT_UNVERIFIABLE_CHAIN] = "unverifiable-chain",
	[VERDICT_UNVERIFIED_HANDSHAKE] = "unverified-handshake",
	[VERDICT_NOT_VISIBLE] = "not-visible",
	[VERDICT_STREAM_MISMATCH] = "stream-mismatch",
	[VERDICT_FINGERPRINT_CHANGED] = "fingerprint-changed",
};

const char *verdict_name(enum verdict v)
{
	if ((unsigned)v >= VERDICT_COUNT)
		return "unknown";
	return verdict_names[v];
}

int verdict_is_alert(enum verdict v)
{
	switch (v) {
	case VERDICT_SELF_SIGNED:
	case VERDICT_FORGED_ISSUER:
	case VERDICT_UNAPPROVED_ISSUER:
	case VERDICT_UNVERIFIABLE_CHAIN:
	case VERDICT_UNVERIFIED_HANDSHAKE:
	case VERDICT_STREAM_MISMATCH:
	case VERDICT_FINGERPRINT_CHANGED:
		return 1;
	default:
		return 0;
	}
}

/* ---- load time (called by rules.c) ------------------------------------ */

int policy_cert_is_ca(const struct x509_info *xi)
{
	X509 *x = xi->x509;
	int kind, ok;

	if (!xi->parsed)
		return 0;
	/* 1: basicConstraints cA.  3: X.509 v1 self-issued, which OpenSSL
	 * accepts as a root; require its signature to verify too.  keyUsage-
	 * only (4) and Netscape types (5) are not what "CA" means here. */
	kind = X509_check_ca(x);
	ok = kind == 1 || (kind == 3 && X509_self_signed(x, 1) == 1);
	ERR_clear_error();
	return ok;
}

int policy_owner_seal(struct rules_owner *o)
{
	/* Views of o->cas[i].x509; the stack does not own them. */
	o->trusted = sk_X509_new_null();
	if (o->trusted == NULL)
		return -1;
	for (size_t i = 0; i < o->n_cas; i++)
		if (!sk_X509_push(o->trusted, o->cas[i].x509))
			return -1;
	return 0;
}

void policy_owner_release(struct rules_owner *o)
{
	sk_X509_free(o->trusted);
	o->trusted = NULL;
}

/* ---- what is protected ------------------------------------------------- */

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address, as in rules.c. */
static int addr_norm(int family, const uint8_t *in, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(in, mapped, 12) == 0) {
		memcpy(out, in + 12, 4);
		return AF_INET;
	}
	memcpy(out, in, family == AF_INET ? 4 : 16);
	return family;
}

static int cidr_contains(const struct rules_cidr *c, int family, const uint8_t *addr)
{
	unsigned full = c->prefix / 8, rem = c->prefix % 8;
	uint8_t mask;

	if (family != c->family || memcmp(addr, c->addr, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (uint8_t)(0xffu << (8 - rem));
	return ((addr[full] ^ c->addr[full]) & mask) == 0;
}

/* The owner's first "protect ip" entry holding the address, as written;
 * NULL when none does. */
static const char *owner_ip_entry(const struct rules_owner *o, int family, const uint8_t *raw)
{
	uint8_t addr[16];

	if (family != AF_INET && family != AF_INET6)
		return NULL;
	family = addr_norm(family, raw, addr);
	for (size_t i = 0; i < o->n_cidrs; i++)
		if (cidr_contains(&o->cidrs[i], family, addr))
			return o->cidrs[i].text;
	return NULL;
}

static int owner_has_ip(const struct rules_owner *o, int family, const uint8_t *raw)
{
	return owner_ip_entry(o, family, raw) != NULL;
}

/* Lower-case copy without the trailing dot, as the rules store names.
 * 0 when it cannot be a DNS name (empty or too long). */
static int name_norm(const char *in, char out[RULES_MAX_DNS_NAME + 1])
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > RULES_MAX_DNS_NAME)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return 1;
}

static int is_wild(const char *name)
{
	return name[0] == '*' && name[1] == '.';
}

/* RFC 6125 §6.4.3: "*." stands for exactly one whole, non-empty label. */
static int wild_covers(const char *wild, const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL && dot != name && strcmp(dot + 1, wild + 2) == 0;
}

/* Both ways: a protected wildcard matches a certificate name in it, a
 * certificate wildcard covers a protected name, equal wildcards match. */
static int name_match(const char *a, const char *b)
{
	if (is_wild(a) == is_wild(b))
		return strcmp(a, b) == 0;
	return is_wild(a) ? wild_covers(a, b) : wild_covers(b, a);
}

/* Is name (not a wildcard) the zone's apex or below it, at any depth?
 * "notexample.com" is not in "example.com": the zone starts at a dot. */
static int in_zone(const char *zone, const char *name)
{
	size_t nz = strlen(zone), nn = strlen(name);

	if (nn == nz)
		return strcmp(name, zone) == 0;
	return nn > nz && name[nn - nz - 1] == '.' && strcmp(name + nn - nz, zone) == 0;
}

/* "protect zone": a name in the zone, or a certificate wildcard "*.B"
 * whose names are (B in the zone), or that covers the apex itself (B the
 * apex's parent: "*.com" serves "example.com").  The same both-ways rule
 * as name_match, with the zone's depth. */
static int zone_match(const char *zone, const char *name)
{
	if (!is_wild(name))
		return in_zone(zone, name);
	return in_zone(zone, name + 2) || wild_covers(name, zone);
}

/* The owner's first "protect name" entry matching raw, else its first
 * "protect zone" entry; its kind ("name" or "zone": the asset coverage
 * counts under) in *type.  NULL when none does. */
static const char *owner_name_entry(const struct rules_owner *o, const char *raw,
                                    const char **type)
{
	char name[RULES_MAX_DNS_NAME + 1];

	*type = "name";
	if (!name_norm(raw, name))
		return NULL;
	for (size_t i = 0; i < o->n_names; i++)
		if (name_match(o->names[i], name))
			return o->names[i];
	*type = "zone";
	for (size_t i = 0; i < o->n_zones; i++)
		if (zone_match(o->zones[i], name))
			return o->zones[i];
	return NULL;
}

static int owner_has_name(const struct rules_owner *o, const char *raw)
{
	const char *type;

	return owner_name_entry(o, raw, &type) != NULL;
}

/* Append in to out[o..n), bytes outside printable ASCII (and '\\') as
 * \xHH; stops short rather than cut an escape.  Returns the new end. */
static size_t append_printable(char *out, size_t n, size_t o, const char *in)
{
	for (const unsigned char *c = (const unsigned char *)in; *c != '\0'; c++) {
		if (*c >= 0x20 && *c < 0x7f && *c != '\\') {
			if (o + 1 >= n)
				break;
			out[o++] = (char)*c;
		} else {
			if (o + 4 >= n)
				break;
			snprintf(out + o, 5, "\\x%02x", *c);
			o += 4;
		}
	}
	return o;
}

/* "kind:what", escaped: a certificate or SNI name may hold any byte, and
 * the matched list goes into alerts and JSON as it is.  type and entry:
 * the protected entry it hit (policy_asset). */
static void add_match(struct policy_result *r, const char *kind, const char *what,
                      const char *type, const char *entry)
{
	char m[sizeof(r->matched[0])] = "";   /* zeroed: copied whole below */
	size_t o = (size_t)snprintf(m, sizeof(m), "%s:", kind);

	o = append_printable(m, sizeof(m), o, what);
	m[o] = '\0';
	for (size_t i = 0; i < r->n_matched; i++)
		if (strcmp(r->matched[i], m) == 0)
			return;
	if (r->n_matched < POLICY_MAX_MATCH) {
		r->asset[r->n_matched].type = type;
		r->asset[r->n_matched].entry = entry;
		memcpy(r->matched[r->n_matched++], m, sizeof(m));
	}
}

static int match_endpoint(const struct rules_owner *o, const struct policy_input *in,
                          struct policy_result *r)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	const char *entry, *type;
	int hit = 0, family;

	if ((entry = owner_ip_entry(o, in->family, in->server_ip)) != NULL) {
		family = addr_norm(in->family, in->server_ip, addr);
		if (inet_ntop(family, addr, text, sizeof(text)) != NULL)
			add_match(r, "ip", text, "ip", entry);
		hit = 1;
	}
	if (in->sni != NULL && (entry = owner_name_entry(o, in->sni, &type)) != NULL) {
		add_match(r, "sni", in->sni, type, entry);
		hit = 1;
	}
	return hit;
}

/* An IP literal in the CN is an address, never a name.  The entry it
 * hit, its type in *type; NULL when none. */
static const char *owner_cn_entry(const struct rules_owner *o, const char *cn,
                                  const char **type)
{
	uint8_t addr[16];
	int family = inet_pton(AF_INET, cn, addr) == 1 ? AF_INET :
	             inet_pton(AF_INET6, cn, addr) == 1 ? AF_INET6 : 0;

	if (family != 0) {
		*type = "ip";
		return owner_ip_entry(o, family, addr);
	}
	return owner_name_entry(o, cn, type);
}

static int match_cn(const struct rules_owner *o, const char *cn, struct policy_result *r)
{
	const char *type, *entry = owner_cn_entry(o, cn, &type);

	if (entry == NULL)
		return 0;
	add_match(r, "cn", cn, type, entry);
	return 1;
}

/* Is the leaf for one of the owner's assets?  Only the leaf: a CA
 * certificate higher up names nothing a client connects to. */
static int match_leaf(const struct rules_owner *o, const struct x509_info *leaf,
                      struct policy_result *r)
{
	const char *entry, *type;
	int hit = 0;

	for (size_t i = 0; i < leaf->n_san_ip; i++)
		if ((entry = owner_ip_entry(o, leaf->san_ip[i].family, leaf->san_ip[i].addr))) {
			add_match(r, "san-ip", leaf->san_ip_str[i], "ip", entry);
			hit = 1;
		}
	for (size_t i = 0; i < leaf->n_san_dns; i++)
		if ((entry = owner_name_entry(o, leaf->san_dns[i], &type)) != NULL) {
			add_match(r, "san-dns", leaf->san_dns[i], type, entry);
			hit = 1;
		}
	if (leaf->cn != NULL && match_cn(o, leaf->cn, r))
		hit = 1;
	return hit;
}

/* ---- verification ------------------------------------------------------ */

static int is_pinned(const struct rules_owner *o, const struct x509_info *xi)
{
	for (size_t i = 0; i < o->n_pins; i++)
		if (strcmp(o->pins[i], xi->spki_sha256) == 0)
			return 1;
	return 0;
}

/* Index of cert in the presented chain, or -1. */
static int presented_index(const struct policy_input *in, X509 *cert)
{
	for (size_t i = 0; i < in->n_certs; i++)
		if (in->certs[i].parsed && X509_cmp(in->certs[i].x509, cert) == 0)
			return (int)i;
	return -1;
}

static void set_anchor(const struct rules_owner *o, const struct policy_input *in,
                       X509 *top, struct policy_result *r)
{
	r->anchor_cert = presented_index(in, top);
	for (size_t i = 0; i < o->n_cas; i++)
		if (X509_cmp(o->cas[i].x509, top) == 0) {
			snprintf(r->anchor, sizeof(r->anchor), "%s", o->cas[i].subject);
			return;
		}
	/* Not an approved CA: the only other anchors are pinned presented
	 * certificates, so top was sent. */
	if (r->anchor_cert >= 0)
		snprintf(r->anchor, sizeof(r->anchor), "spki:%s",
		         in->certs[r->anchor_cert].spki_sha256);
}

/* Anchors for this evaluation: the owner's CAs plus the presented certs
 * whose SPKI is pinned; the untrusted pool: every presented cert, in any
 * order.  Both stacks are views (caller frees them with sk_X509_free). */
static int build_stacks(const struct rules_owner *o, const struct policy_input *in,
                        STACK_OF(X509) **trusted, STACK_OF(X509) **untrusted)
{
	*trusted = sk_X509_dup(o->trusted);
	*untrusted = sk_X509_new_null();
	if (*trusted == NULL || *untrusted == NULL)
		return -1;
	for (size_t i = 0; i < in->n_certs; i++) {
		X509 *x = in->certs[i].x509;

		if (!in->certs[i].parsed)
			continue;
		if (!sk_X509_push(*untrusted, x))
			return -1;
		if (is_pinned(o, &in->certs[i]) && !sk_X509_push(*trusted, x))
			return -1;
	}
	return 0;
}

/* 1: the leaf chains to an anchor of the owner (anchor recorded in r);
 * 0: it does not (*verr: OpenSSL's reason); -1: out of memory. */
static int verify_chain(const struct rules_owner *o, const struct policy_input *in,
                        struct policy_result *r, int *verr)
{
	STACK_OF(X509) *trusted = NULL, *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *chain;
	int ret = -1;

	if (build_stacks(o, in, &trusted, &untrusted) < 0)
		goto out;
	/* Per evaluation, freed below.  No X509_STORE: the trusted stack is
	 * the whole trust store, so pinned presented certs join the owner's
	 * CAs without copying a store per handshake. */
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, NULL, in->certs[0].x509, untrusted))
		goto out;
	X509_STORE_CTX_set0_trusted_stack(ctx, trusted);
	X509_STORE_CTX_set_verify_cb(ctx, x509_verify_cb);
	param = X509_STORE_CTX_get0_param(ctx);
	/* PARTIAL_CHAIN: an approved intermediate or pinned cert is an anchor
	 * without its root.  NO_CHECK_TIME: dates never decide.  Auth level
	 * 0: a genuine SHA-1 or RSA-1024 signature still verifies. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
	X509_VERIFY_PARAM_set_auth_level(param, 0);
	ret = X509_verify_cert(ctx) == 1;
	*verr = X509_STORE_CTX_get_error(ctx);
	if (ret == 1) {
		/* The anchor is the first certificate that came from the trusted
		 * stack; OpenSSL may leave untrusted ones above a pinned leaf. */
		chain = X509_STORE_CTX_get0_chain(ctx);
		set_anchor(o, in, sk_X509_value(chain, X509_STORE_CTX_get_num_untrusted(ctx)), r);
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(trusted);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return ret;
}

static int signed_by(X509 *cert, X509 *issuer)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	int ok = key != NULL && X509_verify(cert, key) == 1;

	ERR_clear_error();
	return ok;
}

/* Why a chain was not approved, for the verdict and its reason. */
struct finding {
	int verify_error;                /* X509_V_ERR_* of the failed path */
	const struct x509_info *forged;  /* presented cert with a forged issuer */
	const struct x509_info *claimed; /* the approved CA it names */
};

/* Forged issuer: a presented certificate names one of the owner's
 * approved CAs as issuer, yet no approved certificate of that name signed
 * it.  Fills f->forged and f->claimed and returns 1 when found. */
static int forged_issuer(const struct rules_owner *o, const struct policy_input *in,
                         struct finding *f)
{
	for (size_t i = 0; i < in->n_certs; i++) {
		X509 *x = in->certs[i].x509;
		const struct x509_info *named = NULL;
		int genuine = 0;

		if (!in->certs[i].parsed)
			continue;
		/* Several approved certs may share a name (re-keyed roots):
		 * one of them signing is enough. */
		for (size_t j = 0; j < o->n_cas && !genuine; j++) {
			X509 *ca = o->cas[j].x509;

			if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca)) != 0)
				continue;
			named = &o->cas[j];
			genuine = signed_by(x, ca);
		}
		if (named != NULL && !genuine) {
			f->forged = &in->certs[i];
			f->claimed = named;
			return 1;
		}
	}
	return 0;
}

/* ---- verdicts and reasons ------------------------------------------------ */

/* Names quoted in a reason are cut to 64 bytes (owner names are at most
 * 64 too; reason_target cuts its own), so that even the longest facts
 * leave room in reason[] for the advice the judge adds (reason.h). */
#define NM "%.64s"

/* The facts of a chain that is not approved; what to do follows from who
 * else trusts it, which only the judge knows (reason_advise). */
static void reason_not_approved(struct policy_result *r, const struct x509_info *leaf,
                                const struct finding *f)
{
	char target[192];

	reason_target(r, target, sizeof(target));
	switch (r->verdict) {
	case VERDICT_SELF_SIGNED:
		snprintf(r->reason, sizeof(r->reason),
		         "Self-signed certificate '" NM "' %s (owner %s).",
		         leaf->subject, target, r->owner);
		break;
	case VERDICT_FORGED_ISSUER:
		snprintf(r->reason, sizeof(r->reason),
		         "Certificate '" NM "' %s (owner %s): '" NM "' in its chain claims approved "
		         "CA '" NM "' as issuer but was not signed by it, so the CA is impersonated: "
		         "treat it as active interception.",
		         leaf->subject, target, r->owner, f->forged->subject, f->claimed->subject);
		break;
	default:
		snprintf(r->reason, sizeof(r->reason),
		         "Certificate '" NM "' %s (owner %s)%s was issued by '" NM "', a CA this "
		         "owner has not approved (%s).",
		         leaf->subject, target, r->owner, strchr(target, ',') ? "," : "", leaf->issuer,
		         reason_verify_words(f->verify_error));
		break;
	}
}

/* why: certsentry's words, never a library's (the leaf's own parse error,
 * which carries OpenSSL's, is in the event's certificates[]). */
static void decide_unverifiable(const struct policy_input *in, struct policy_result *r,
                                const char *why)
{
	r->verdict = VERDICT_UNVERIFIABLE_CHAIN;
	if (in->n_certs == 0)
		snprintf(r->reason, sizeof(r->reason),
		         "Connection to protected " NM " (owner %s) sent an empty certificate chain, "
		         "so nothing can be verified: check the server and the path to it.",
		         reason_endpoint(r), r->owner);
	else
		snprintf(r->reason, sizeof(r->reason),
		         "Connection to protected " NM " (owner %s) presented a leaf certificate "
		         "that cannot be checked (sha256 %s: %s): capture the handshake and "
		         "inspect the certificate and the server.",
		         reason_endpoint(r), r->owner, in->certs[0].sha256, why);
}

/* The owner-by-chain part of decide_chain: verification and, when it
 * fails, the reason.  Costs signature checks, so its result is kept in m
 * (when given) and reused for the same chain. */
static void check_chain(const struct rules_owner *o, const struct policy_input *in,
                        struct policy_result *r, struct finding *f, struct policy_memo *m)
{
	const struct x509_info *leaf = &in->certs[0];
	int ok;

	if (m != NULL && m->done) {
		r->verdict = (enum verdict)m->verdict;
		r->anchor_cert = m->anchor_cert;
		snprintf(r->anchor, sizeof(r->anchor), "%s", m->anchor);
		f->verify_error = m->verify_error;
		f->forged = m->forged >= 0 ? &in->certs[m->forged] : NULL;
		f->claimed = m->claimed >= 0 ? &o->cas[m->claimed] : NULL;
		return;
	}
	ok = verify_chain(o, in, r, &f->verify_error);
	if (ok < 0) {
		r->verdict = VERDICT_UNVERIFIABLE_CHAIN;  /* not memoised: may pass later */
		return;
	}
	if (ok)
		r->verdict = VERDICT_APPROVED;
	else if (signed_by(leaf->x509, leaf->x509))
		r->verdict = VERDICT_SELF_SIGNED;
	else if (forged_issuer(o, in, f))
		r->verdict = VERDICT_FORGED_ISSUER;
	else
		r->verdict = VERDICT_UNAPPROVED_ISSUER;
	if (m != NULL) {
		m->done = 1;
		m->verdict = (uint8_t)r->verdict;
		m->anchor_cert = (int16_t)r->anchor_cert;
		snprintf(m->anchor, sizeof(m->anchor), "%s", r->anchor);
		m->verify_error = f->verify_error;
		m->forged = (int16_t)(f->forged ? f->forged - in->certs : -1);
		m->claimed = (int16_t)(f->claimed ? f->claimed - o->cas : -1);
	}
}

static void decide_chain(const struct rules_owner *o, const struct policy_input *in,
                         struct policy_result *r, struct policy_memo *m)
{
	struct finding f = { 0, NULL, NULL };
	const struct x509_info *leaf;
	char target[192];

	if (in->n_certs == 0) {
		decide_unverifiable(in, r, "");
		return;
	}
	leaf = &in->certs[0];
	if (!leaf->parsed) {
		decide_unverifiable(in, r, "it does not parse as one X.509 certificate");
		return;
	}
	check_chain(o, in, r, &f, m);
	switch (r->verdict) {
	case VERDICT_UNVERIFIABLE_CHAIN:
		decide_unverifiable(in, r, "out of memory during verification");
		break;
	case VERDICT_APPROVED:
		reason_target(r, target, sizeof(target));
		snprintf(r->reason, sizeof(r->reason),
		         "Certificate '" NM "' %s (owner %s)%s chains to approved anchor '" NM "'; "
		         "nothing to do.",
		         leaf->subject, target, r->owner, strchr(target, ',') ? "," : "", r->anchor);
		break;
	default:
		reason_not_approved(r, leaf, &f);
		break;
	}
}

static void decide_no_chain(const struct policy_input *in, struct policy_result *r)
{
	if (in->hs == POLICY_HS_INCOMPLETE) {
		r->verdict = VERDICT_UNVERIFIED_HANDSHAKE;
		snprintf(r->reason, sizeof(r->reason),
		         "Handshake with protected " NM " (owner %s) ended before the server's "
		         "certificate was seen%s%.160s%s, so the chain could not be checked: look for "
		         "packet loss or capture limits, or repeated failures that suggest "
		         "interference.",
		         reason_endpoint(r), r->owner, in->note ? " (" : "", in->note ? in->note : "",
		         in->note ? ")" : "");
		return;
	}
	r->verdict = VERDICT_NOT_VISIBLE;
	if (in->hs == POLICY_HS_ENCRYPTED && in->fp && in->fp->outcome == FP_CHANGED) {
		r->verdict = VERDICT_FINGERPRINT_CHANGED;
		snprintf(r->reason, sizeof(r->reason),
		         "TLS 1.3 handshake with protected " NM " (owner %s) departs from the "
		         "endpoint's fingerprint baseline: %.400s. A fingerprint is evidence, not "
		         "proof: another certificate chain, TLS stack or middlebox answered; read the "
		         "certificates with a key log (--keylog), or relearn if the change was yours.",
		         reason_endpoint(r), r->owner, in->fp->what);
		return;
	}
	if (in->hs == POLICY_HS_ENCRYPTED && in->fp && in->fp->outcome == FP_MATCH) {
		snprintf(r->reason, sizeof(r->reason),
		         "Connection to protected " NM " (owner %s) used TLS 1.3 and its certificates "
		         "were not read (%.120s); checked by fingerprint only: %.300s.",
		         reason_endpoint(r), r->owner, in->note ? in->note : "no key log", in->fp->what);
		return;
	}
	if (in->hs == POLICY_HS_ENCRYPTED) {
		snprintf(r->reason, sizeof(r->reason),
		         "Connection to protected " NM " (owner %s) used TLS 1.3, which encrypts "
		         "certificates, and they were not read (%.160s): the chain was not "
		         "checked; give certsentry the clients' key log (--keylog) to check it.",
		         reason_endpoint(r), r->owner, in->note ? in->note : "no key log");
		return;
	}
	snprintf(r->reason, sizeof(r->reason),
	         "Connection to protected " NM " (owner %s) resumed a session without a "
	         "certificate, so no certificate is visible to a passive sensor; nothing to "
	         "check.",
	         reason_endpoint(r), r->owner);
}

/* 1 when the owner is concerned (r filled), 0 when not. */
static int evaluate_owner(const struct rules_owner *o, const struct policy_input *in,
                          struct policy_result *r, struct policy_memo *m)
{
	const struct x509_info *leaf =
		in->n_certs > 0 && in->certs[0].parsed ? &in->certs[0] : NULL;
	int endpoint, asset = 0;

	memset(r, 0, sizeof(*r));
	r->owner = o->name;
	r->anchor_cert = -1;
	endpoint = match_endpoint(o, in, r);
	if (in->hs != POLICY_HS_CHAIN) {
		/* No certificates to look at: only the endpoint can concern. */
		if (!endpoint)
			return 0;
		decide_no_chain(in, r);
		return 1;
	}
	if (leaf != NULL)
		asset = match_leaf(o, leaf, r);
	if (!endpoint && !asset)
		return 0;
	decide_chain(o, in, r, m);
	return 1;
}

/* What a baseline endpoint is counted for: an address of c, an SNI that
 * name matches, or an SNI in zone (one of the three given). */
struct plan_asset {
	const struct rules_cidr *c;
	const char *name;
	const char *zone;
};

static int plan_asset_has(const struct plan_asset *a, int family, const uint8_t *addr,
                          const char *sni)
{
	if (a->c)
		return cidr_contains(a->c, family, addr);
	if (!sni[0])
		return 0;
	return a->name ? name_match(a->name, sni) : zone_match(a->zone, sni);
}

/* Baseline endpoints for the asset a. */
static size_t baseline_for(const struct fp_baseline *b, const struct plan_asset *a)
{
	size_t n = 0;

	for (size_t i = 0; b && i < fp_endpoints(b); i++) {
		const uint8_t *ip;
		const char *sni;
		uint16_t port;
		size_t shapes;
		int family;
		uint8_t addr[16], raw[16];

		fp_endpoint_at(b, i, &family, &ip, &port, &sni, &shapes);
		memset(raw, 0, sizeof(raw));
		memcpy(raw, ip, family == 4 ? 4 : 16);
		family = addr_norm(family == 4 ? AF_INET : AF_INET6, raw, addr);
		n += (size_t)plan_asset_has(a, family, addr, sni);
	}
	return n;
}

static void plan_line(FILE *f, const char *kind, const char *what, int keylog, size_t fp,
                      int have_baseline)
{
	fprintf(f, "    %s %s: TLS 1.0-1.2 checked (approved or alerting); TLS 1.3 and QUIC %s%s",
	        kind, what, keylog ? "checked where the key log has the session" : "",
	        keylog ? ", else " : "");
	if (fp)
		fprintf(f, "by fingerprint (%zu baseline endpoint%s)", fp, fp == 1 ? "" : "s");
	else
		fprintf(f, "NOT CHECKED (%s)",
		        have_baseline ? "no baseline endpoint for it" : "no key log, no --baseline");
	fprintf(f, "; resumed sessions not checked (no certificate)\n");
}

void policy_coverage_plan(const struct policy *p, int keylog, const struct fp_baseline *b,
                          FILE *f)
{
	fprintf(f, "coverage with these options (TLS 1.3 and QUIC encrypt the certificates; pcapng "
	        "inputs' own secrets count as a key log):\n");
	for (size_t i = 0; i < p->n_owners; i++) {
		const struct rules_owner *o = &p->owners[i];

		fprintf(f, "  owner %s\n", o->name);
		for (size_t k = 0; k < o->n_cidrs; k++) {
			struct plan_asset a = { &o->cidrs[k], NULL, NULL };

			plan_line(f, "ip", o->cidrs[k].text, keylog, baseline_for(b, &a), b != NULL);
		}
		for (size_t k = 0; k < o->n_names; k++) {
			struct plan_asset a = { NULL, o->names[k], NULL };

			plan_line(f, "name", o->names[k], keylog, baseline_for(b, &a), b != NULL);
		}
		for (size_t k = 0; k < o->n_zones; k++) {
			struct plan_asset a = { NULL, NULL, o->zones[k] };

			plan_line(f, "zone", o->zones[k], keylog, baseline_for(b, &a), b != NULL);
		}
	}
}

/* ---- could a leaf concern anyone (a prefilter, certnames.h) ------------ */

int policy_leaf_name_concerns(const struct policy *p, enum certname_kind kind,
                              const uint8_t *v, size_t len)
{
	char name[RULES_MAX_DNS_NAME + 3];
	size_t n;

	if (kind == CERTNAME_IP) {
		/* x509.c keeps only 4- and 16-byte addresses */
		if (len != 4 && len != 16)
			return 0;
		for (size_t i = 0; i < p->n_owners; i++)
			if (owner_has_ip(&p->owners[i], len == 4 ? AF_INET : AF_INET6, v))
				return 1;
		return 0;
	}
	/* Up to the first NUL, as x509.c keeps names.  A name longer than a
	 * DNS name with its dot is no name and no address of any owner. */
	n = strnlen((const char *)v, len);
	if (n > RULES_MAX_DNS_NAME + 1)
		return 0;
	memcpy(name, v, n);
	name[n] = '\0';
	for (size_t i = 0; i < p->n_owners; i++) {
		const char *type;

		if (kind == CERTNAME_CN ? owner_cn_entry(&p->owners[i], name, &type) != NULL :
		    owner_has_name(&p->owners[i], name))
			return 1;
	}
	return 0;
}

size_t policy_evaluate(const struct policy *p, const struct policy_input *in,
                       struct policy_result *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_owners && n < max; i++)
		n += (size_t)evaluate_owner(&p->owners[i], in, &out[n],
		                            in->memo != NULL ? &in->memo[i] : NULL);
	return n;
}
