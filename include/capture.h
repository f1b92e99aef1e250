/*
 * capture.h - packet sources.  The only module that includes pcap.h.
 * Files may be pcap or pcapng; "-" reads standard input.
 */
#ifndef CS_CAPTURE_H
#define CS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

/* NULL with err = "FILE: reason" when the file cannot be opened or its
 * header is not a capture. */
struct capture *capture_open_file(const char *path, char *err, size_t errlen);
void capture_close(struct capture *c);

int capture_datalink(const struct capture *c);
const char *capture_datalink_name(const struct capture *c);

/* Next frame: 1 and the frame (a view valid until the next call), 0 at the
 * end, -1 on a damaged file (message in capture_error). */
int capture_next(struct capture *c, const uint8_t **frame, size_t *caplen,
                 uint64_t *ts_us);
const char *capture_error(const struct capture *c);
/* Frames read so far (for "FILE: packet N: reason"). */
uint64_t capture_count(const struct capture *c);

#endif
