/*
 * fp_int.h - what sensor/verdict/fingerprint.c and fp_file.c share, and
 * nothing else includes: the baseline's layout and its limits.  The
 * contract with the rest of certsentry is include/verdict/fingerprint.h.
 */
#ifndef CS_FP_INT_H
#define CS_FP_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict/fingerprint.h"

#define FP_VERSION      1
#define FP_MAGIC        "certsentry-baseline"
#define SLOTS_MIN       64u
#define SNI_MAX         256u
#define HELLO_MAX       48u
#define NO_INDEX        0xffffffffu

struct fp_shape {
	char hello[HELLO_MAX];        /* ServerHello extension types, "43-51" */
	unsigned records;
	struct fp_synack sa;          /* ttl 0: none seen */
	uint64_t count;
	double mean, m2;              /* flight bytes: Welford's running moments */
	uint64_t min, max;
	unsigned lmin, lmax;          /* the largest record */
	uint16_t ciphers[FP_MAX_CHOICES], groups[FP_MAX_CHOICES];
	size_t n_ciphers, n_groups;
};

struct fp_endpoint {
	int family;
	uint8_t ip[16];
	uint16_t port;
	char sni[SNI_MAX];            /* "" for none */
	struct fp_shape shape[FP_MAX_SHAPES];
	size_t n;
};

struct fp_baseline {
	pthread_mutex_t lock;         /* learning */
	unsigned tolerance;
	struct fp_endpoint **ep;      /* owned array of owned endpoints */
	size_t n, cap;
	uint32_t *exact, *by_sni;     /* owned; index into ep, NO_INDEX empty; at
	                                 most half full */
	size_t n_slots;               /* a power of two */
};


/* The endpoint (address, port, SNI), made when new: NULL when the
 * baseline is full (FP_MAX_ENDPOINTS) or out of memory. */
struct fp_endpoint *fp_ep_get(struct fp_baseline *b, int family, const uint8_t *ip,
                              uint16_t port, const char *sni);
/* A shape's flight bytes: their standard deviation. */
double fp_shape_sd(const struct fp_shape *s);

#endif
