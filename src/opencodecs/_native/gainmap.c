/* Applying an ISO 21496-1 / Ultra HDR gain map (see gainmap.h).

   For each pixel: the base's sRGB values to linear light, the map sampled
   bilinearly, g = sample ^ (1 / gamma), a boost of
   2 ^ ((gain_min + (gain_max - gain_min) * g) * weight), and
   hdr = (sdr + offset_sdr) * boost - offset_hdr, clamped to [0, 10000/203]
   (PQ's peak over the 203-nit SDR white, as libultrahdr clamps); a change of
   primaries before or after that, as the metadata says. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gainmap.h"

#define MAX_LINEAR (10000.0f / 203.0f)

static float srgb_linear[256];
static int use_f16c;

/* float -> IEEE half, round to nearest even; handles zero, subnormals,
   normals and overflow (NaN never reaches it: inputs are clamped). */
static uint16_t half_from_float(float value)
{
    uint32_t f, sign;
    memcpy(&f, &value, 4);
    sign = (f >> 16) & 0x8000u;
    f &= 0x7FFFFFFFu;
    if (f >= 0x47800000u) /* 65536 and above: infinity */
        return (uint16_t)(sign | 0x7C00u);
    if (f < 0x38800000u) { /* below 2^-14: the float unit's rounding makes the subnormal */
        float v, magic = 0.5f;
        memcpy(&v, &f, 4);
        v += magic; /* 2^-1: one ulp is 2^-24, the smallest half subnormal */
        memcpy(&f, &v, 4);
        return (uint16_t)(sign | (f - 0x3F000000u));
    }
    /* normal: rebias the exponent, round the 13 dropped bits to nearest even */
    f += ((uint32_t)(15 - 127) << 23) + 0xFFFu + ((f >> 13) & 1u);
    return (uint16_t)(sign | (f >> 13));
}

static void halves_portable(const float *in, uint16_t *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = half_from_float(in[i]);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define HAVE_F16C_PATH 1
__attribute__((target("f16c"))) static void halves_f16c(const float *in, uint16_t *out, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        _mm_storel_epi64((__m128i *)(out + i),
                         _mm_cvtps_ph(_mm_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    halves_portable(in + i, out + i, n - i);
}
#endif

static void halves(const float *in, uint16_t *out, int n)
{
#ifdef HAVE_F16C_PATH
    if (use_f16c) {
        halves_f16c(in, out, n);
        return;
    }
#endif
    halves_portable(in, out, n);
}

void gainmap_init(void)
{
    for (int i = 0; i < 256; i++) {
        float v = i / 255.0f;
        srgb_linear[i] = v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
    }
#ifdef HAVE_F16C_PATH
    __builtin_cpu_init();
    use_f16c = __builtin_cpu_supports("f16c");
#endif
}

static void transform(const float *m, float c[3])
{
    float r = c[0], g = c[1], b = c[2];
    c[0] = m[0] * r + m[1] * g + m[2] * b;
    c[1] = m[3] * r + m[4] * g + m[5] * b;
    c[2] = m[6] * r + m[7] * g + m[8] * b;
}

/* BT.2100 HLG code value (0..1023) of linear light relative to SDR white:
   scaled to a 1000-nit peak, inverse OOTF approximated by a 1/1.2 power. */
static uint16_t hlg_code(float linear)
{
    const float a = 0.17883277f, b = 0.28466892f, c = 0.55991073f;
    float e = linear * (203.0f / 1000.0f);
    e = e <= 0.0f ? 0.0f : e >= 1.0f ? 1.0f : powf(e, 1.0f / 1.2f);
    e = e <= 1.0f / 12.0f ? sqrtf(3.0f * e) : a * logf(12.0f * e - b) + c;
    return (uint16_t)(e * 1023.0f + 0.5f);
}

int gainmap_apply(const uint8_t *sdr, int width, int height,
                  const uint8_t *map, int map_width, int map_height,
                  const gainmap_params *p, int mode, void *out,
                  int row_begin, int row_end)
{
    const int mc = p->channels;
    int *x0 = malloc(sizeof(int) * 2 * (size_t)width);
    float *fx = malloc(sizeof(float) * (size_t)width);
    float *map_row = malloc(sizeof(float) * (size_t)map_width * mc);
    float *pixels = malloc(sizeof(float) * 4 * (size_t)width);
    int *x1 = x0 + width;
    float range[3], inv_gamma[3];
    if (!x0 || !fx || !map_row || !pixels) {
        free(x0), free(fx), free(map_row), free(pixels);
        return -1;
    }
    for (int k = 0; k < mc; k++) {
        range[k] = p->gain_max[k] - p->gain_min[k];
        inv_gamma[k] = 1.0f / p->gamma[k];
    }
    for (int x = 0; x < width; x++) {
        float xm = (float)((double)x * map_width / width);
        x0[x] = (int)xm;
        x1[x] = x0[x] + 1 < map_width ? x0[x] + 1 : map_width - 1;
        fx[x] = xm - x0[x];
    }
    for (int y = row_begin; y < row_end; y++) {
        float ym = (float)((double)y * map_height / height);
        int y0 = (int)ym, y1 = y0 + 1 < map_height ? y0 + 1 : map_height - 1;
        float fy = ym - y0;
        const uint8_t *m0 = map + (size_t)y0 * map_width * mc;
        const uint8_t *m1 = map + (size_t)y1 * map_width * mc;
        const uint8_t *s = sdr + (size_t)y * width * 3;
        for (int i = 0; i < map_width * mc; i++)
            map_row[i] = (m0[i] + (m1[i] - m0[i]) * fy) * (1.0f / 255.0f);
        for (int x = 0; x < width; x++) {
            float boost[3];
            for (int k = 0; k < mc; k++) {
                float a = map_row[x0[x] * mc + k], b = map_row[x1[x] * mc + k];
                float g = a + (b - a) * fx[x];
                if (inv_gamma[k] != 1.0f)
                    g = powf(g, inv_gamma[k]);
                boost[k] = exp2f((p->gain_min[k] + range[k] * g) * p->weight);
            }
            float c[3] = {srgb_linear[s[3 * x]], srgb_linear[s[3 * x + 1]], srgb_linear[s[3 * x + 2]]};
            if (p->before)
                transform(p->before, c);
            for (int k = 0; k < 3; k++)
                c[k] = (c[k] + p->offset_sdr[k]) * boost[mc == 3 ? k : 0] - p->offset_hdr[k];
            if (p->after)
                transform(p->after, c);
            for (int k = 0; k < 3; k++)
                pixels[4 * x + k] = c[k] < 0.0f ? 0.0f : c[k] > MAX_LINEAR ? MAX_LINEAR : c[k];
            pixels[4 * x + 3] = 1.0f;
        }
        uint16_t *row = (uint16_t *)out + (size_t)y * width * 4;
        if (mode == GAINMAP_LINEAR_HALF) {
            halves(pixels, row, 4 * width);
        } else {
            for (int x = 0; x < width; x++) {
                for (int k = 0; k < 3; k++)
                    row[4 * x + k] = hlg_code(pixels[4 * x + k]);
                row[4 * x + 3] = 3;
            }
        }
    }
    free(x0), free(fx), free(map_row), free(pixels);
    return 0;
}
