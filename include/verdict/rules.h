/*
 * rules.h - the loaded policy, shared by rules.c (which fills it from the
 * rules files) and policy.c (which decides with it).  Not part of the
 * public surface: other modules use policy.h and see struct policy as
 * opaque.
 */
#ifndef CS_RULES_H
#define CS_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/policy.h"
#include "x509/x509.h"

/* Configuration limits.  Exceeding one is a configuration error reported
 * as "file:line: reason", never a silent truncation.  They bound memory
 * and matching cost for a rules set an operator writes by hand. */
#define RULES_MAX_LINE        4096u  /* bytes per line, without the newline */
/* Bytes of one rules file: 1024 owners of a few hundred lines fit many
 * times over; a larger file is refused before it is read, and so is any
 * file that is not a regular file (a FIFO, a socket, a device). */
#define RULES_MAX_FILE        (16u * 1024u * 1024u)
#define RULES_MAX_FILES       1024u  /* *.rules files in a directory */
#define RULES_MAX_OWNERS      1024u  /* owners over all files */
#define RULES_MAX_ENTRIES     4096u  /* per owner and per kind: IPs, names, zones, CAs, pins */
#define RULES_MAX_OWNER_NAME  64u    /* owner name length */
#define RULES_MAX_DNS_NAME    253u   /* RFC 1035 §2.3.4, without the trailing dot */
#define RULES_MAX_CA_FILE     (4u * 1024u * 1024u) /* bytes of one PEM file */

/* A protected address or network.  IPv4-mapped IPv6 is stored as IPv4. */
struct rules_cidr {
	int family;                  /* AF_INET or AF_INET6 */
	uint8_t addr[16];            /* host bits are zero */
	unsigned prefix;             /* 0..32 or 0..128 */
	char text[64];               /* as written, for the summary: an IPv6
	                                address (45) and "/128" fit */
};

struct rules_owner {
	char *name;                  /* owned */
	char *file;                  /* owned: where the owner section starts */
	unsigned line;
	struct rules_cidr *cidrs;    /* owned array */
	size_t n_cidrs;
	char **names;                /* owned: lower-case, no trailing dot,
	                                "*." prefix for a wildcard */
	size_t n_names;
	/* owned: lower-case, no trailing dot, never a wildcard: each covers
	 * its apex and every name below it, at any depth ("protect zone") */
	char **zones;
	size_t n_zones;
	struct x509_info *cas;       /* owned: approved CA certificates */
	size_t n_cas;
	char (*pins)[65];            /* owned: SPKI SHA-256, lower-case hex */
	size_t n_pins;
	/* The approved CA certificates as an OpenSSL stack (views of cas[i].x509,
	 * not owning them), built once by policy_owner_seal; freed by
	 * policy_owner_release.  Forward-declared so this header stays free of
	 * OpenSSL. */
	struct stack_st_X509 *trusted;
};

struct policy {
	struct rules_owner *owners;  /* owned array */
	size_t n_owners;
};

/* Implemented in policy.c, used by rules.c at load time. */

/* Is a parsed certificate acceptable as an approved CA: basicConstraints
 * cA, or a self-signed X.509 v1 root? */
int policy_cert_is_ca(const struct x509_info *xi);
/* Prepare an owner's trust material for evaluation.  -1: out of memory. */
int policy_owner_seal(struct rules_owner *o);
/* Free what policy_owner_seal built. */
void policy_owner_release(struct rules_owner *o);

#endif
