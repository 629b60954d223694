#ifndef NTRAIN_JPEG_H
#define NTRAIN_JPEG_H
#include <stddef.h>
#include <stdint.h>

/// Reads a JPEG's size and colour components without decoding it. Returns 0 on success, or -1 with
/// libjpeg's message in `error`.
int ntrain_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, int *components,
                     char *error, size_t error_size);

/// Decodes a JPEG into `out` (width * height * channels bytes, interleaved), as grayscale
/// (channels 1) or RGB (channels 3, from YCbCr or RGB; CMYK is refused). libjpeg reports errors by
/// longjmp, which Swift cannot catch, so this C wrapper owns the setjmp. Returns 0 or -1 with the
/// message in `error`.
int ntrain_jpeg_decode(const uint8_t *data, size_t size, uint8_t *out, int width, int height, int channels,
                       char *error, size_t error_size);
#endif
