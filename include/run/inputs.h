/*
 * inputs.h - the captures of a file run made ready before anything runs
 * (sensor/run/inputs.c): every -r (and operand) must exist and be
 * readable, and a directory stands for its capture files in name order.
 * A missing or unreadable input is an error before the first packet, so
 * that a run never ends in a summary of zeros after the error.
 */
#ifndef CS_INPUTS_H
#define CS_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "run/options.h"

/* Files of a directory looked at (each its magic read): a bound on the
 * work and on the names kept, named in the error when passed. */
#define INPUTS_MAX_DIR_ENTRIES 65536u

/* Is this the start of a capture file (pcap in either byte order and
 * either timestamp resolution, or a pcapng Section Header Block)? */
int inputs_is_capture_magic(const uint8_t *buf, size_t len);

/* o->inputs checked and directories replaced by their capture files
 * (names kept in o's pool).  0, or -1 with every problem said on stderr
 * (exit 2). */
int inputs_prepare(struct options *o);

#endif
