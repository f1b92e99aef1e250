/*
 * classify.h - nDPI behind one module.  nDPI sees the first packets of a
 * flow (it drops out-of-order segments and never exposes certificate
 * bytes, so reassembly and X.509 are ours); its protocol, category and
 * flow risks are reported in the EVE "ndpi" object.
 */
#ifndef CS_CLASSIFY_H
#define CS_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

struct classify_ctx;
struct classify_flow;

#define CLASSIFY_NAME_LEN 64

/* Frozen result, small enough to live in every flow record. */
struct classify_result {
	int valid;
	char proto[CLASSIFY_NAME_LEN];    /* "TLS.Cloudflare", "TLS", "Unknown" */
	char proto_id[16];                /* "91.220" */
	char category[32];
	uint64_t risk;                    /* bitmap of nDPI risk ids */
	int is_tls;                       /* master or app protocol is TLS */
};

/* One detection module per thread; NULL on failure. */
struct classify_ctx *classify_new(void);
void classify_free(struct classify_ctx *c);

/* Per-flow state (large: allocate only for inspected flows).  Owned by the
 * flow record; freed with classify_flow_free once the result is frozen. */
struct classify_flow *classify_flow_new(void);
void classify_flow_free(struct classify_flow *f);
/* Bytes of our wrapper of one flow, for the memcap; what nDPI allocates
 * for the flow is charged to g_stats.mem_in_use as nDPI makes it. */
size_t classify_flow_size(void);

/* Feed one packet from its IP header.  Returns 1 once nDPI has decided. */
int classify_packet(struct classify_ctx *c, struct classify_flow *f,
                    const uint8_t *l3, size_t len, uint64_t ts_us);

/* Freeze the result (gives up detection if still undecided). */
void classify_finish(struct classify_ctx *c, struct classify_flow *f,
                     struct classify_result *out);

/* Name of risk bit i (0..63), or NULL. */
const char *classify_risk_name(unsigned bit);
const char *classify_risk_severity(unsigned bit);

#endif
