#include "ntrain_jpeg.h"
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>

struct failure {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char warning[JMSG_LENGTH_MAX];  /* the first warning's text */
};

static void on_error(j_common_ptr cinfo) {
    struct failure *f = (struct failure *)cinfo->err;
    longjmp(f->jump, 1);
}

/* Warnings are counted (libjpeg keeps the last one's code) and not printed; a decode that met a
 * corrupt-data warning (a truncated file decodes as grey, for one) is failed afterwards, as PIL does. */
static void on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  /* trace messages */
    struct failure *f = (struct failure *)cinfo->err;
    if (f->base.num_warnings++ == 0) (*cinfo->err->format_message)(cinfo, f->warning);
}

static void copy_message(j_common_ptr cinfo, char *error, size_t error_size) {
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(error, error_size, "%s", text);
}

/* One pass for both entry points: the header alone when `out` is NULL, else the whole image. */
static int read_jpeg(const uint8_t *data, size_t size, uint8_t *out, int *width, int *height, int *components,
                     int channels, char *error, size_t error_size) {
    struct jpeg_decompress_struct cinfo;
    struct failure err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error;
    err.base.emit_message = on_message;
    err.warning[0] = 0;
    if (setjmp(err.jump)) {
        copy_message((j_common_ptr)&cinfo, error, error_size);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (out == NULL) {
        *width = (int)cinfo.image_width;
        *height = (int)cinfo.image_height;
        *components = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK ? 4 : cinfo.num_components;
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    int status = 0;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    if ((int)cinfo.image_width != *width || (int)cinfo.image_height != *height) {
        snprintf(error, error_size, "the image size changed between reads");
        status = -1;
    } else {
        jpeg_start_decompress(&cinfo);
        if ((int)cinfo.output_components != channels) {
            snprintf(error, error_size, "libjpeg gave %d components, expected %d", cinfo.output_components, channels);
            status = -1;
        } else {
            size_t stride = (size_t)*width * (size_t)channels;
            while (cinfo.output_scanline < cinfo.output_height) {
                JSAMPROW row = out + (size_t)cinfo.output_scanline * stride;
                jpeg_read_scanlines(&cinfo, &row, 1);
            }
            jpeg_finish_decompress(&cinfo);
            if (err.base.num_warnings > 0) {
                snprintf(error, error_size, "%s", err.warning);
                status = -1;
            }
        }
    }
    jpeg_destroy_decompress(&cinfo);
    return status;
}

int ntrain_jpeg_info(const uint8_t *data, size_t size, int *width, int *height, int *components,
                     char *error, size_t error_size) {
    return read_jpeg(data, size, NULL, width, height, components, 0, error, error_size);
}

int ntrain_jpeg_decode(const uint8_t *data, size_t size, uint8_t *out, int width, int height, int channels,
                       char *error, size_t error_size) {
    int components = channels;
    return read_jpeg(data, size, out, &width, &height, &components, channels, error, error_size);
}
