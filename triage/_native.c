/* triage's optional native kernel (see triage/native.py): loops that Python
 * runs slowly and while holding the GIL. Every function has a Python twin that
 * gives identical results; the tests compare them.
 *
 * 1. HMAC-SHA256 over every string of an Arrow string array, in one call.
 *
 * Optional accelerator for triage.identity.digest: the pure-Python path calls
 * hashlib once or twice per value (about 1 us each); this runs the same HMAC
 * from precomputed inner and outer states (RFC 2104: the key blocks are
 * absorbed once) over a whole Arrow buffer, with the x86 SHA extensions when
 * the CPU has them. Digests are identical to the Python path; the tests check
 * both against RFC 4231 and against each other. Compiled on first use with the
 * system C compiler; without one, triage falls back to Python.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress_portable(uint32_t s[8], const uint8_t *p) {
    uint32_t w[64], a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

typedef void (*compress_fn)(uint32_t s[8], const uint8_t *p);
typedef void (*compress2_fn)(uint32_t a[8], const uint8_t *pa, uint32_t b[8],
                             const uint8_t *pb);

static void compress_portable2(uint32_t a[8], const uint8_t *pa, uint32_t b[8],
                               const uint8_t *pb) {
    compress_portable(a, pa);
    compress_portable(b, pb);
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* One block with the SHA extensions (the layout of Intel's reference code:
 * state kept as ABEF/CDGH, four rounds per sha256rnds2 pair). */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t s[8], const uint8_t *p) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&s[0]);
    __m128i st1 = _mm_loadu_si128((const __m128i *)&s[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);
    st1 = _mm_shuffle_epi32(st1, 0x1B);
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);
    const __m128i abef = st0, cdgh = st1;
    __m128i m[4], msg;
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        if (g < 4) m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), MASK);
        msg = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
        st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
        if (g >= 3 && g < 15) {
            __m128i t = _mm_alignr_epi8(m[g & 3], m[(g + 3) & 3], 4);
            m[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(g + 1) & 3], t), m[g & 3]);
        }
        msg = _mm_shuffle_epi32(msg, 0x0E);
        st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
        if (g >= 1 && g < 13) m[(g + 3) & 3] = _mm_sha256msg1_epu32(m[(g + 3) & 3], m[g & 3]);
    }
    st0 = _mm_add_epi32(st0, abef);
    st1 = _mm_add_epi32(st1, cdgh);
    tmp = _mm_shuffle_epi32(st0, 0x1B);
    st1 = _mm_shuffle_epi32(st1, 0xB1);
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);
    st1 = _mm_alignr_epi8(st1, tmp, 8);
    _mm_storeu_si128((__m128i *)&s[0], st0);
    _mm_storeu_si128((__m128i *)&s[4], st1);
}

__attribute__((target("sha,sse4.1,ssse3")))
/* Two independent blocks at once: one block is a chain of dependent rounds, so
 * interleaving two chains keeps the SHA unit busy (0.6x the time of two calls). */
static void compress_shani2(uint32_t sa[8], const uint8_t *pa, uint32_t sb[8], const uint8_t *pb) {
    const __m128i MASK = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i ta = _mm_loadu_si128((const __m128i *)&sa[0]);
    __m128i a1 = _mm_loadu_si128((const __m128i *)&sa[4]);
    __m128i tb = _mm_loadu_si128((const __m128i *)&sb[0]);
    __m128i b1 = _mm_loadu_si128((const __m128i *)&sb[4]);
    ta = _mm_shuffle_epi32(ta, 0xB1); a1 = _mm_shuffle_epi32(a1, 0x1B);
    tb = _mm_shuffle_epi32(tb, 0xB1); b1 = _mm_shuffle_epi32(b1, 0x1B);
    __m128i a0 = _mm_alignr_epi8(ta, a1, 8); a1 = _mm_blend_epi16(a1, ta, 0xF0);
    __m128i b0 = _mm_alignr_epi8(tb, b1, 8); b1 = _mm_blend_epi16(b1, tb, 0xF0);
    const __m128i a_abef = a0, a_cdgh = a1, b_abef = b0, b_cdgh = b1;
    __m128i ma[4], mb[4], msga, msgb;
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        if (g < 4) {
            ma[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16 * g)), MASK);
            mb[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16 * g)), MASK);
        }
        __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * g]);
        msga = _mm_add_epi32(ma[g & 3], k);
        msgb = _mm_add_epi32(mb[g & 3], k);
        a1 = _mm_sha256rnds2_epu32(a1, a0, msga);
        b1 = _mm_sha256rnds2_epu32(b1, b0, msgb);
        if (g >= 3 && g < 15) {
            __m128i t = _mm_alignr_epi8(ma[g & 3], ma[(g + 3) & 3], 4);
            ma[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(ma[(g + 1) & 3], t), ma[g & 3]);
            t = _mm_alignr_epi8(mb[g & 3], mb[(g + 3) & 3], 4);
            mb[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(mb[(g + 1) & 3], t), mb[g & 3]);
        }
        msga = _mm_shuffle_epi32(msga, 0x0E);
        msgb = _mm_shuffle_epi32(msgb, 0x0E);
        a0 = _mm_sha256rnds2_epu32(a0, a1, msga);
        b0 = _mm_sha256rnds2_epu32(b0, b1, msgb);
        if (g >= 1 && g < 13) {
            ma[(g + 3) & 3] = _mm_sha256msg1_epu32(ma[(g + 3) & 3], ma[g & 3]);
            mb[(g + 3) & 3] = _mm_sha256msg1_epu32(mb[(g + 3) & 3], mb[g & 3]);
        }
    }
    a0 = _mm_add_epi32(a0, a_abef); a1 = _mm_add_epi32(a1, a_cdgh);
    b0 = _mm_add_epi32(b0, b_abef); b1 = _mm_add_epi32(b1, b_cdgh);
    ta = _mm_shuffle_epi32(a0, 0x1B); a1 = _mm_shuffle_epi32(a1, 0xB1);
    a0 = _mm_blend_epi16(ta, a1, 0xF0); a1 = _mm_alignr_epi8(a1, ta, 8);
    tb = _mm_shuffle_epi32(b0, 0x1B); b1 = _mm_shuffle_epi32(b1, 0xB1);
    b0 = _mm_blend_epi16(tb, b1, 0xF0); b1 = _mm_alignr_epi8(b1, tb, 8);
    _mm_storeu_si128((__m128i *)&sa[0], a0); _mm_storeu_si128((__m128i *)&sa[4], a1);
    _mm_storeu_si128((__m128i *)&sb[0], b0); _mm_storeu_si128((__m128i *)&sb[4], b1);
}
static compress_fn pick_compress(int allow_shani) {
    unsigned a, b, c, d;
    if (allow_shani && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29))) return compress_shani;
    return compress_portable;
}
#else
static compress_fn pick_compress(int allow_shani) { (void)allow_shani; return compress_portable; }
#endif

typedef struct {
    uint32_t s[8];
    uint8_t buf[64];
    size_t used;
    uint64_t total;
} ctx_t;

static void update(ctx_t *c, compress_fn f, const uint8_t *p, size_t n) {
    c->total += n;
    if (c->used) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->buf + c->used, p, take);
        c->used += take; p += take; n -= take;
        if (c->used < 64) return;
        f(c->s, c->buf);
        c->used = 0;
    }
    for (; n >= 64; n -= 64, p += 64) f(c->s, p);
    memcpy(c->buf, p, n);
    c->used = n;
}

static void finish(ctx_t *c, compress_fn f, uint8_t out[32]) {
    uint64_t bits = c->total * 8;
    c->buf[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->buf + c->used, 0, 64 - c->used);
        f(c->s, c->buf);
        c->used = 0;
    }
    memset(c->buf + c->used, 0, 56 - c->used);
    for (int i = 0; i < 8; i++) c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    f(c->s, c->buf);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->s[i] >> 24); out[4 * i + 1] = (uint8_t)(c->s[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->s[i] >> 8); out[4 * i + 3] = (uint8_t)c->s[i];
    }
}

/* 1 if the SHA extensions are used, for reporting. */
int triage_hmac_uses_shani(void) {
#if defined(__x86_64__)
    return pick_compress(1) == compress_shani;
#else
    return 0;
#endif
}

/* The bytes of row `at` of an Arrow string_view array (polars' own layout, so it is
 * read in place). A view is 16 bytes: the length, then either the value itself (12
 * bytes or fewer) or its first 4 bytes, the data buffer's index and the offset in it. */
static const uint8_t *view_bytes(const uint8_t *views, const uint8_t *const *buffers,
                                 int64_t at, int32_t *length) {
    const uint8_t *view = views + 16 * at;
    int32_t buffer, position;
    memcpy(length, view, 4);
    if (*length <= 12) return view + 4;
    memcpy(&buffer, view + 8, 4);
    memcpy(&position, view + 12, 4);
    return buffers[buffer] + position;
}

/* 1 if the UTF-8 text is nothing but Unicode White_Space (what polars' strip_chars()
 * removes): U+0009-000D, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000. */
static int only_white_space(const uint8_t *p, int32_t n) {
    int32_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == ' ' || (c >= 0x09 && c <= 0x0D)) { i += 1; continue; }
        if (c == 0xC2 && i + 1 < n && (p[i + 1] == 0x85 || p[i + 1] == 0xA0)) { i += 2; continue; }
        if (i + 2 < n) {
            uint32_t cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[i + 1] & 0x3F) << 6)
                          | (p[i + 2] & 0x3F);
            if ((c & 0xF0) == 0xE0 && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80
                && (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
                    || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)) {
                i += 3; continue;
            }
        }
        return 0;
    }
    return 1;
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

static inline void store_be64(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

/* HMAC(key, prefix || message) with inner/outer, the SHA-256 states after the key
 * XOR ipad / opad block; the first 16 bytes of the digest as two big-endian words. */
static void hmac_words(const uint32_t inner[8], const uint32_t outer[8], compress_fn f,
                       const uint8_t *prefix, size_t prefix_len,
                       const uint8_t *message, size_t length, uint64_t *hi, uint64_t *lo) {
    uint8_t digest[32];
    ctx_t c;
    memcpy(c.s, inner, 32); c.used = 0; c.total = 64;
    update(&c, f, prefix, prefix_len);
    update(&c, f, message, length);
    finish(&c, f, digest);
    memcpy(c.s, outer, 32); c.used = 0; c.total = 64;
    update(&c, f, digest, 32);
    finish(&c, f, digest);
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = (h << 8) | digest[i];
        l = (l << 8) | digest[8 + i];
    }
    *hi = h; *lo = l;
}

/* HMACs of many messages, the short ones (prefix and message within 55 bytes: one
 * inner block, and the outer block always is one) two at a time: a block's rounds
 * form one chain of dependent steps, so interleaving two keeps the SHA unit busy.
 * A short message is laid out in its block when added and hashed when a second one
 * comes or at hmacs_flush, which every kernel calls before it returns; hi and lo
 * must stay valid until then. Longer messages are hashed at once. */
typedef struct {
    const uint32_t *inner, *outer;
    compress_fn one;
    compress2_fn two;
    int pending;
    uint8_t block[2][64];
    uint64_t *hi[2], *lo[2];
} Hmacs;

static void hmacs_init(Hmacs *h, const uint32_t inner[8], const uint32_t outer[8],
                       int allow_shani) {
    h->inner = inner;
    h->outer = outer;
    h->one = pick_compress(allow_shani);
#if defined(__x86_64__)
    h->two = h->one == compress_shani ? compress_shani2 : compress_portable2;
#else
    h->two = compress_portable2;
#endif
    h->pending = 0;
}

static void hmacs_flush(Hmacs *h) {
    uint32_t s[2][8];
    for (int k = 0; k < h->pending; k++) memcpy(s[k], h->inner, 32);
    for (int round = 0; round < 2 && h->pending; round++) {
        if (h->pending == 2) h->two(s[0], h->block[0], s[1], h->block[1]);
        else h->one(s[0], h->block[0]);
        if (round == 1) break;
        for (int k = 0; k < h->pending; k++) {
            /* The outer message: the inner digest, then padding for 64 + 32 bytes. */
            for (int i = 0; i < 8; i++) store_be32(h->block[k] + 4 * i, s[k][i]);
            h->block[k][32] = 0x80;
            memset(h->block[k] + 33, 0, 23);
            store_be64(h->block[k] + 56, (64 + 32) * 8);
            memcpy(s[k], h->outer, 32);
        }
    }
    for (int k = 0; k < h->pending; k++) {
        *h->hi[k] = (uint64_t)s[k][0] << 32 | s[k][1];
        *h->lo[k] = (uint64_t)s[k][2] << 32 | s[k][3];
    }
    h->pending = 0;
}

static void hmacs_add(Hmacs *h, const uint8_t *prefix, size_t prefix_len,
                      const uint8_t *message, size_t length, uint64_t *hi, uint64_t *lo) {
    if (prefix_len + length > 55) {
        hmac_words(h->inner, h->outer, h->one, prefix, prefix_len, message, length, hi, lo);
        return;
    }
    uint8_t *block = h->block[h->pending];
    memcpy(block, prefix, prefix_len);
    memcpy(block + prefix_len, message, length);
    block[prefix_len + length] = 0x80;
    memset(block + prefix_len + length + 1, 0, 55 - prefix_len - length);
    store_be64(block + 56, (64 + prefix_len + length) * 8);
    h->hi[h->pending] = hi;
    h->lo[h->pending] = lo;
    if (++h->pending == 2) hmacs_flush(h);
}

/* For rows [start, end) of an Arrow string_view array: hi[row], lo[row] = the first
 * 128 bits of HMAC(key, prefix || value[row]), or 0 for a null row (validity bit
 * clear; validity may be NULL). `offset` is the array's offset into its views and
 * validity. */
void triage_hmac_views(const uint32_t inner[8], const uint32_t outer[8],
                       const uint8_t *prefix, size_t prefix_len,
                       const uint8_t *views, const uint8_t *const *buffers,
                       const uint8_t *validity, int64_t offset,
                       int64_t start, int64_t end, uint64_t *hi, uint64_t *lo,
                       int allow_shani) {
    Hmacs hmacs;
    hmacs_init(&hmacs, inner, outer, allow_shani);
    for (int64_t row = start; row < end; row++) {
        int64_t at = offset + row;
        if (validity && !((validity[at >> 3] >> (at & 7)) & 1)) {
            hi[row] = 0; lo[row] = 0;
            continue;
        }
        int32_t length;
        const uint8_t *message = view_bytes(views, buffers, at, &length);
        hmacs_add(&hmacs, prefix, prefix_len, message, (size_t)length, hi + row, lo + row);
    }
    hmacs_flush(&hmacs);
}

/* Canonical forms of triage.identity.canonical, version 1, for the values its
 * vectorised path calls plain; anything else is left to the Python reference. Each
 * returns the form's length in out, 0 when the value is not a valid identifier, or
 * -1 for the reference. */
#define CANONICAL_MAX 256
#define CANONICAL_ID 1
#define CANONICAL_EMAIL 2

static int ascii_plain(uint8_t c) { return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n' || c == '\r'; }
static int ascii_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* National and insurance ids: python-stdnum's compact form (separators " -./:"
 * dropped, trimmed, upper-case), valid when 5 or more of [0-9A-Z]. */
static int canonical_id(const uint8_t *p, int32_t n, uint8_t *out) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!ascii_plain(c)) return -1;
        if (c == ' ' || c == '-' || c == '.' || c == '/' || c == ':') continue;
        out[m++] = c;
    }
    int32_t start = 0, end = m;
    while (start < end && ascii_space(out[start])) start++;
    while (end > start && ascii_space(out[end - 1])) end--;
    if (end - start < 5) return 0;
    for (int32_t k = start; k < end; k++) {
        uint8_t c = out[k];
        if (c >= 'a' && c <= 'z') c -= 32;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return 0;
        out[k - start] = c;
    }
    return end - start;
}

/* Emails: trimmed and lower-cased, local@label.label[...] with no white space and
 * one "@". Plain: printable ASCII (and tab, CR, LF) plus the Latin-1 letters, none
 * of them after an "@" (NFKC is then the identity, lower-casing a table, no IDNA). */
static int canonical_email(const uint8_t *p, int32_t n, uint8_t *out) {
    int32_t m = 0;
    int after_at = 0;
    for (int32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (!ascii_plain(c)) return -1;
            if (c == '@') after_at = 1;
            out[m++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
            continue;
        }
        /* U+00C0-00FF but U+00D7 and U+00F7; U+00C0-00DE (but U+00D7) lower-case +0x20. */
        if (after_at || c != 0xC3 || i + 1 >= n) return -1;
        uint8_t d = p[++i];
        if (d < 0x80 || d > 0xBF || d == 0x97 || d == 0xB7) return -1;
        out[m++] = 0xC3;
        out[m++] = d <= 0x9E ? d + 0x20 : d;
    }
    int32_t start = 0, end = m;
    while (start < end && ascii_space(out[start])) start++;
    while (end > start && ascii_space(out[end - 1])) end--;
    int32_t at = -1, dots = 0, label = 0;
    for (int32_t k = start; k < end; k++) {
        uint8_t c = out[k];
        if (ascii_space(c)) return 0;
        if (c == '@') {
            if (at >= 0 || k == start) return 0;
            at = k;
        } else if (at >= 0 && c == '.') {
            if (label == 0) return 0;
            dots++;
            label = 0;
        } else if (at >= 0) {
            label++;
        }
    }
    if (at < 0 || dots == 0 || label == 0) return 0;
    memmove(out, out + start, (size_t)(end - start));
    return end - start;
}

/* The name half of the name + birth-date composite, for the values the polars path
 * calls plain: printable ASCII, lower-cased, separators " -'." dropped, and the Latin
 * letters U+00C0-017F whose form is ASCII, each replaced by it (`letters`: per code
 * point from U+00C0, its form's length, 0 when it has none, then up to 2 bytes).
 * Appends to out at *m; returns 0, or -1 for the reference. */
static int append_name_form(const uint8_t *p, int32_t n, const uint8_t *letters,
                            uint8_t *out, int32_t *m, int32_t room) {
    for (int32_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c <= 0x7e) {
            if (c == ' ' || c == '-' || c == '\'' || c == '.') continue;
            if (*m >= room) return -1;
            out[(*m)++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
            continue;
        }
        if (c < 0xC3 || c > 0xC5 || i + 1 >= n || (p[i + 1] & 0xC0) != 0x80) return -1;
        uint32_t code = ((uint32_t)(c & 0x1F) << 6) | (p[++i] & 0x3F);
        const uint8_t *form = letters + 3 * (code - 0xC0);
        if (form[0] == 0 || *m + form[0] > room) return -1;
        memcpy(out + *m, form + 1, form[0]);
        *m += form[0];
    }
    return 0;
}

/* The name + birth-date composite "<name form>\0<ISO birth date>", hashed as in
 * triage_hmac_views. The name is the concatenation of n_names string_view columns
 * (a full name, or first and last names: the space polars would put between them
 * is a separator the form drops), null when any of them is; `born` holds the ISO
 * dates (null when none). status as in triage_canonical_digest. */
void triage_name_birth_digest(const uint32_t inner[8], const uint32_t outer[8],
                              const uint8_t *prefix, size_t prefix_len, int n_names,
                              const uint8_t *const *name_views,
                              const uint8_t *const *const *name_buffers,
                              const uint8_t *const *name_validity, const int64_t *name_offsets,
                              const uint8_t *born_views, const uint8_t *const *born_buffers,
                              const uint8_t *born_validity, int64_t born_offset,
                              const uint8_t *letters, int64_t start, int64_t end,
                              uint64_t *hi, uint64_t *lo, uint8_t *status, int allow_shani) {
    Hmacs hmacs;
    hmacs_init(&hmacs, inner, outer, allow_shani);
    uint8_t form[CANONICAL_MAX + 64];
    for (int64_t row = start; row < end; row++) {
        hi[row] = 0; lo[row] = 0; status[row] = 0;
        int64_t at = born_offset + row;
        if (born_validity && !((born_validity[at >> 3] >> (at & 7)) & 1)) continue;
        int32_t born_length;
        const uint8_t *born = view_bytes(born_views, born_buffers, at, &born_length);
        int present = 1;
        for (int k = 0; k < n_names && present; k++) {
            int64_t name_at = name_offsets[k] + row;
            present = !name_validity[k]
                      || ((name_validity[k][name_at >> 3] >> (name_at & 7)) & 1);
        }
        if (!present) continue;
        int32_t m = 0, refer = born_length > 63;
        for (int k = 0; k < n_names && !refer; k++) {
            int32_t length;
            const uint8_t *name = view_bytes(name_views[k], name_buffers[k],
                                             name_offsets[k] + row, &length);
            refer = append_name_form(name, length, letters, form, &m, CANONICAL_MAX) < 0;
        }
        if (refer) { status[row] = 2; continue; }
        if (m == 0) continue;
        form[m++] = 0;
        memcpy(form + m, born, (size_t)born_length);
        hmacs_add(&hmacs, prefix, prefix_len, form, (size_t)(m + born_length),
                  hi + row, lo + row);
        status[row] = 1;
    }
    hmacs_flush(&hmacs);
}

/* For rows [start, end) of a string_view array: the canonical form of `kind` and
 * its digest as in triage_hmac_views. status[row]: 1 hashed, 0 no identifier (null
 * or not valid; hi = lo = 0), 2 left to the reference (hi = lo = 0). */
void triage_canonical_digest(int kind, const uint32_t inner[8], const uint32_t outer[8],
                             const uint8_t *prefix, size_t prefix_len,
                             const uint8_t *views, const uint8_t *const *buffers,
                             const uint8_t *validity, int64_t offset,
                             int64_t start, int64_t end, uint64_t *hi, uint64_t *lo,
                             uint8_t *status, int allow_shani) {
    Hmacs hmacs;
    hmacs_init(&hmacs, inner, outer, allow_shani);
    uint8_t form[CANONICAL_MAX];
    for (int64_t row = start; row < end; row++) {
        int64_t at = offset + row;
        hi[row] = 0; lo[row] = 0; status[row] = 0;
        if (validity && !((validity[at >> 3] >> (at & 7)) & 1)) continue;
        int32_t length;
        const uint8_t *value = view_bytes(views, buffers, at, &length);
        int formed = -1;
        if (length <= CANONICAL_MAX) {
            formed = kind == CANONICAL_ID ? canonical_id(value, length, form)
                   : kind == CANONICAL_EMAIL ? canonical_email(value, length, form) : -1;
        }
        if (formed < 0) { status[row] = 2; continue; }
        if (formed == 0) continue;
        hmacs_add(&hmacs, prefix, prefix_len, form, (size_t)formed, hi + row, lo + row);
        status[row] = 1;
    }
    hmacs_flush(&hmacs);
}

/* Phone numbers of a region whose E.164 form follows from its metadata alone
 * (canonical._phone_rules), for the values the polars path calls plain: ASCII digits,
 * "+" and the separators " .-", written with "+" and the country code, the
 * international prefix and the country code, or the national prefix (tried in that
 * order). For each row: status 1 with nsn (the national significant number, into
 * nsn_data at nsn_offsets, as an Arrow large string) and hi, lo the digest of
 * "+<cc><nsn>" as in triage_hmac_views; the caller still checks nsn against the
 * region's pattern and lengths. Status 0 for a null or empty value, 2 for one
 * left to the reference. nsn_data holds 32 bytes a row. */
void triage_phone_digest(const uint32_t inner[8], const uint32_t outer[8],
                         const uint8_t *prefix, size_t prefix_len,
                         const uint8_t *views, const uint8_t *const *buffers,
                         const uint8_t *validity, int64_t offset, int64_t n,
                         const uint8_t *cc, int64_t cc_len, const uint8_t *intl,
                         int64_t intl_len, const uint8_t *national, int64_t national_len,
                         int64_t *nsn_offsets, uint8_t *nsn_data, uint64_t *hi, uint64_t *lo,
                         uint8_t *status, int allow_shani) {
    Hmacs hmacs;
    hmacs_init(&hmacs, inner, outer, allow_shani);
    int64_t used = 0;
    nsn_offsets[0] = 0;
    for (int64_t row = 0; row < n; row++) {
        int64_t at = offset + row;
        hi[row] = 0; lo[row] = 0; status[row] = 0;
        nsn_offsets[row + 1] = used;
        if (validity && !((validity[at >> 3] >> (at & 7)) & 1)) continue;
        int32_t length;
        const uint8_t *value = view_bytes(views, buffers, at, &length);
        if (length == 0) continue;
        uint8_t digits[64];
        int32_t m = 0, plain = 1;
        for (int32_t i = 0; i < length && plain; i++) {
            uint8_t c = value[i];
            if (c == ' ' || c == '.' || c == '-') continue;
            if (!((c >= '0' && c <= '9') || c == '+') || m >= 48) plain = 0;
            else digits[m++] = c;
        }
        int32_t cut = -1;
        if (plain && m >= 1 + cc_len && digits[0] == '+' && !memcmp(digits + 1, cc, cc_len))
            cut = 1 + (int32_t)cc_len;
        else if (plain && m >= intl_len + cc_len && !memcmp(digits, intl, intl_len)
                 && !memcmp(digits + intl_len, cc, cc_len))
            cut = (int32_t)(intl_len + cc_len);
        else if (plain && m >= national_len && !memcmp(digits, national, national_len))
            cut = (int32_t)national_len;
        /* A "+" left in nsn fails the caller's pattern check (digits only). */
        int32_t nsn_len = cut < 0 ? 0 : m - cut;
        if (cut < 0 || nsn_len > 32) {
            status[row] = 2;
            continue;
        }
        uint8_t e164[64];
        e164[0] = '+';
        memcpy(e164 + 1, cc, (size_t)cc_len);
        memcpy(e164 + 1 + cc_len, digits + cut, (size_t)nsn_len);
        hmacs_add(&hmacs, prefix, prefix_len, e164, (size_t)(1 + cc_len + nsn_len),
                  hi + row, lo + row);
        memcpy(nsn_data + used, digits + cut, (size_t)nsn_len);
        used += nsn_len;
        nsn_offsets[row + 1] = used;
        status[row] = 1;
    }
    hmacs_flush(&hmacs);
}

/* Exposure bits: for each of n_columns string_view columns (views, data buffers,
 * validity or NULL, offset) and each of n_rows rows, set bit bits[c] % 64 of
 * words[(bits[c] / 64) * n_rows + row] when the value is present and holds more
 * than white space. */
void triage_filled_bits(int64_t n_rows, int64_t n_columns, const uint8_t *const *views,
                        const uint8_t *const *const *buffers,
                        const uint8_t *const *validity, const int64_t *offsets,
                        const int64_t *bits, uint64_t *words) {
    for (int64_t c = 0; c < n_columns; c++) {
        uint64_t *out = words + (bits[c] / 64) * n_rows;
        uint64_t bit = (uint64_t)1 << (bits[c] % 64);
        for (int64_t row = 0; row < n_rows; row++) {
            int64_t at = offsets[c] + row;
            if (validity[c] && !((validity[c][at >> 3] >> (at & 7)) & 1)) continue;
            const uint8_t *view = views[c] + 16 * at;
            int32_t length;
            memcpy(&length, view, 4);
            if (length == 0) continue;
            /* The view holds the first byte: only a value that starts with a byte
             * white space can start with is read from its data buffer. */
            uint8_t first = view[4];
            int may_be_blank = first == ' ' || (first >= 0x09 && first <= 0x0D)
                               || first == 0xC2 || first == 0xE1 || first == 0xE2
                               || first == 0xE3;
            if (may_be_blank && only_white_space(view_bytes(views[c], buffers[c], at, &length),
                                                 length)) continue;
            out[row] |= bit;
        }
    }
}

/* Per column of n_columns string_view columns (views, validity or NULL, offset), from
 * the lengths the views hold (UTF-8 bytes; the values are never read): stats[5 * c ...]
 * = present (non-null) values, empty ones, then the smallest, the largest (0 when
 * none) and the sum of the lengths of the non-empty ones. */
void triage_length_stats(int64_t n_rows, int64_t n_columns, const uint8_t *const *views,
                         const uint8_t *const *validity, const int64_t *offsets,
                         int64_t *stats) {
    for (int64_t c = 0; c < n_columns; c++) {
        int64_t present = 0, empty = 0, sum = 0;
        int32_t shortest = INT32_MAX, longest = 0;
        for (int64_t row = 0; row < n_rows; row++) {
            int64_t at = offsets[c] + row;
            if (validity[c] && !((validity[c][at >> 3] >> (at & 7)) & 1)) continue;
            int32_t length;
            memcpy(&length, views[c] + 16 * at, 4);
            present++;
            if (length == 0) { empty++; continue; }
            sum += length;
            if (length < shortest) shortest = length;
            if (length > longest) longest = length;
        }
        int64_t *out = stats + 5 * c;
        out[0] = present; out[1] = empty;
        out[2] = longest ? shortest : 0; out[3] = longest; out[4] = sum;
    }
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Fixed-width dates and times for the columns whose strptime format is made of
 * %d %m %Y %H %M %S and literal characters, `format` encoding the directives as
 * bytes 1 to 6 in that order. Each row of a string_view array: status 1 and
 * micros = microseconds from 1970-01-01 when the value is exactly the format with
 * two digits for each field (four for %Y, year 1 or later) and a valid date and
 * time; status 0 when null or empty; otherwise status 2, left to polars (a
 * one-digit day, spaces, an hour 24...): what the kernel reads, polars' strptime
 * reads alike, and the rest it never judges. */
void triage_parse_times(const uint8_t *format, int64_t format_length,
                        const uint8_t *views, const uint8_t *const *buffers,
                        const uint8_t *validity, int64_t offset, int64_t n,
                        int64_t *micros, uint8_t *status) {
    /* Every directive has a fixed width, so the format fixes where each field and
     * literal sits and the value's whole length: checked at those places, row by
     * row, instead of walking the format for every value. */
    int32_t field_at[7] = {0}, literal_at[64], length_wanted = 0;
    uint8_t literal[64];
    int fields = 0, literals = 0;
    int8_t field_of[7];
    for (int64_t f = 0; f < format_length; f++) {
        uint8_t c = format[f];
        if (c >= 1 && c <= 6) {
            field_of[fields++] = (int8_t)c;
            field_at[c] = length_wanted;
            length_wanted += c == 3 ? 4 : 2;
        } else {
            if (literals == 64) {  /* longer than any date format: leave all to polars */
                for (int64_t row = 0; row < n; row++) { micros[row] = 0; status[row] = 2; }
                return;
            }
            literal_at[literals] = length_wanted++;
            literal[literals++] = c;
        }
    }
    static const int month_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int64_t row = 0; row < n; row++) {
        int64_t at = offset + row;
        micros[row] = 0; status[row] = 0;
        if (validity && !((validity[at >> 3] >> (at & 7)) & 1)) continue;
        int32_t length;
        const uint8_t *p = view_bytes(views, buffers, at, &length);
        if (length == 0) continue;
        status[row] = 2;
        if (length != length_wanted) continue;
        int ok = 1;
        for (int k = 0; k < literals; k++) ok &= p[literal_at[k]] == literal[k];
        int64_t field[7] = {0, 1, 1, 1970, 0, 0, 0};
        for (int k = 0; k < fields; k++) {
            int c = field_of[k];
            const uint8_t *digits = p + field_at[c];
            unsigned a = digits[0] - (unsigned)'0', b = digits[1] - (unsigned)'0';
            ok &= (a <= 9) & (b <= 9);
            int64_t value = a * 10 + b;
            if (c == 3) {  /* the year's four digits */
                unsigned y = digits[2] - (unsigned)'0', z = digits[3] - (unsigned)'0';
                ok &= (y <= 9) & (z <= 9);
                value = value * 100 + y * 10 + z;
            }
            field[c] = value;
        }
        int64_t day = field[1], month = field[2], year = field[3];
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        if (!ok || year < 1 || month < 1 || month > 12 || day < 1
            || day > month_days[month] || (month == 2 && day == 29 && !leap)
            || field[4] > 23 || field[5] > 59 || field[6] > 59)
            continue;
        micros[row] = ((days_from_civil(year, month, day) * 24 + field[4]) * 60 + field[5])
                      * 60000000 + field[6] * 1000000;
        status[row] = 1;
    }
}

/* Region codes of triage.report.geography, as packed codes (identity.collector's
 * pack_codes: a code's UTF-8 bytes, big-endian, in 7 bytes), for values written in
 * ASCII; status 1: codes[row] holds one (0: none, the polars path's null), 0: a null
 * value, 2: left to the polars path (any byte over 0x7F, whose whitespace and digits
 * are Unicode's). `table` maps the digits that decide the region to a packed code:
 *   - REGION_FR_POSTCODE, REGION_US_ZIP: the first three digits of the five-digit
 *     code (1000 entries), after trimming whitespace; a French postcode is 4 or 5
 *     digits, a ZIP code 5 digits, 5 + 4 (a dash between them or not), or 4 (a
 *     leading zero lost): four digits take a leading zero.
 *   - REGION_FR_NIR: characters 6-8 of a NIR, once whitespace, dots and dashes are
 *     dropped (1400 entries: digit, then digit or A B a b, then digit; see
 *     nir_field_index), for NIRs of the form [1-478] d{4} (d{3} | 2[AaBb]d) d{5} d{2}?. */
#define REGION_FR_POSTCODE 1
#define REGION_US_ZIP 2
#define REGION_FR_NIR 3

static int ascii_white_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int ascii_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static int all_digits(const uint8_t *p, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (!ascii_digit(p[i])) return 0;
    return 1;
}

/* The index of the first three of five digits, the first four given as `p` when
 * `four` (a lost leading zero), else the first five. */
static int32_t prefix_index(const uint8_t *p, int four) {
    return four ? (p[0] - '0') * 10 + (p[1] - '0')
                : (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

static int nir_field_index(const uint8_t *f) {
    int middle = ascii_digit(f[1]) ? f[1] - '0' : f[1] == 'A' ? 10 : f[1] == 'B' ? 11
               : f[1] == 'a' ? 12 : 13;
    return (f[0] - '0') * 140 + middle * 10 + (f[2] - '0');
}

/* -1: no region; else the table index. */
static int32_t region_index(int kind, const uint8_t *p, int32_t n) {
    if (kind == REGION_FR_NIR) {
        uint8_t c[16];
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++) {
            if (ascii_white_space(p[i]) || p[i] == '.' || p[i] == '-') continue;
            if (m == 16) return -1;
            c[m++] = p[i];
        }
        if (m != 13 && m != 15) return -1;
        if (!(c[0] >= '1' && c[0] <= '4') && c[0] != '7' && c[0] != '8') return -1;
        int corsica = c[5] == '2' && (c[6] == 'A' || c[6] == 'B' || c[6] == 'a' || c[6] == 'b');
        if (!all_digits(c + 1, 5) || !(corsica || ascii_digit(c[6])) || !all_digits(c + 7, m - 7))
            return -1;
        return nir_field_index(c + 5);
    }
    while (n > 0 && ascii_white_space(p[0])) { p++; n--; }
    while (n > 0 && ascii_white_space(p[n - 1])) n--;
    if ((n == 4 || n == 5) && all_digits(p, n)) return prefix_index(p, n == 4);
    if (kind == REGION_US_ZIP && all_digits(p, 5)
        && ((n == 9 && all_digits(p + 5, 4)) || (n == 10 && p[5] == '-' && all_digits(p + 6, 4))))
        return prefix_index(p, 0);
    return -1;
}

void triage_region_codes(int kind, const uint8_t *views, const uint8_t *const *buffers,
                         const uint8_t *validity, int64_t offset, int64_t n,
                         const uint64_t *table, uint64_t *codes, uint8_t *status) {
    for (int64_t row = 0; row < n; row++) {
        int64_t at = offset + row;
        codes[row] = 0;
        status[row] = 0;
        if (validity && !((validity[at >> 3] >> (at & 7)) & 1)) continue;
        int32_t length;
        const uint8_t *p = view_bytes(views, buffers, at, &length);
        int ascii = 1;
        for (int32_t i = 0; i < length && ascii; i++) ascii = p[i] < 0x80;
        if (!ascii) { status[row] = 2; continue; }
        int32_t index = region_index(kind, p, length);
        codes[row] = index < 0 ? 0 : table[index];
        status[row] = 1;
    }
}

/* HyperLogLog (triage.profile.hll): the top `precision` bits of each 64-bit hash pick
 * a register, which keeps the largest rank seen, the rank being the number of
 * leading zeros of the remaining bits plus one (64 - precision + 1 when they are 0). */
void triage_hll_add(const uint64_t *hashes, int64_t n, int precision, uint8_t *registers) {
    const int low_bits = 64 - precision;
    const uint64_t low_mask = ((uint64_t)1 << low_bits) - 1;
    for (int64_t i = 0; i < n; i++) {
        uint64_t low = hashes[i] & low_mask;
        uint8_t rank = low ? (uint8_t)(__builtin_clzll(low) - precision + 1)
                           : (uint8_t)(low_bits + 1);
        uint8_t *slot = registers + (hashes[i] >> low_bits);
        if (rank > *slot) *slot = rank;
    }
}

/* The SHA-256 state after one block, so Python can precompute inner/outer. */
void triage_sha256_block_state(const uint8_t block[64], uint32_t state[8]) {
    static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(state, IV, 32);
    compress_portable(state, block);
}

/* Union-find for triage.identity.people: link left[i]-right[i], then leave in
 * parent[] the smallest node id of each component. Roots are always the smaller
 * id (so parent[x] <= x throughout), which makes one final ascending pass enough
 * to point every node at its root. Same result as the numpy version. */
static int64_t find_root(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

void triage_union_find(int64_t n_nodes, const int64_t *left, const int64_t *right,
                       int64_t n_edges, int64_t *parent) {
    for (int64_t i = 0; i < n_nodes; i++) parent[i] = i;
    for (int64_t e = 0; e < n_edges; e++) {
        int64_t a = find_root(parent, left[e]), b = find_root(parent, right[e]);
        if (a < b) parent[b] = a;
        else if (b < a) parent[a] = b;
    }
    for (int64_t i = 0; i < n_nodes; i++) parent[i] = parent[parent[i]];
}

/* One identifier of a tuple, as triage_resolve_members sorts them. */
typedef struct {
    uint64_t hi, lo;
    uint32_t tuple, slot;
} Member;

static int member_less(const Member *a, const Member *b) {
    return a->hi < b->hi || (a->hi == b->hi && a->lo < b->lo);
}

static int member_compare(const void *a, const void *b) {
    return member_less(a, b) ? -1 : member_less(b, a) ? 1 : 0;
}

/* Sorts a[0..n), whose hi all share their bits above `top`, by (hi, lo): two stable
 * byte passes (through tmp and back) on the 16 bits below `top`, then each run of
 * members still tied on those bits is put in order by comparison. Digests are HMAC
 * outputs, uniform, so such a run is short, or the members of one digest repeated
 * in many tuples (already in order). */
static void sort_bucket(Member *a, int64_t n, Member *tmp, int top) {
    if (n < 2) return;
    for (int pass = 0; pass < 2; pass++) {
        int shift = top - 16 + 8 * pass;
        Member *from = pass ? tmp : a, *to = pass ? a : tmp;
        int64_t start[256] = {0};
        for (int64_t i = 0; i < n; i++) start[(from[i].hi >> shift) & 255]++;
        for (int64_t b = 0, sum = 0; b < 256; b++) {
            int64_t count = start[b];
            start[b] = sum;
            sum += count;
        }
        for (int64_t i = 0; i < n; i++) to[start[(from[i].hi >> shift) & 255]++] = from[i];
    }
    int64_t run = 0;
    for (int64_t i = 1; i <= n; i++) {
        if (i < n && a[i].hi >> (top - 16) == a[run].hi >> (top - 16)) continue;
        int64_t length = i - run;
        if (length > 16) {
            qsort(a + run, (size_t)length, sizeof(Member), member_compare);
        } else {
            for (int64_t j = run + 1; j < i; j++) {
                Member x = a[j];
                int64_t k = j;
                for (; k > run && member_less(&x, &a[k - 1]); k--) a[k] = a[k - 1];
                a[k] = x;
            }
        }
        run = i;
    }
}

/* One slot's digests over consecutive tuples, read in place from Arrow buffers: the
 * digest halves of each row (row r is tuple first_tuple + r), and which rows hold a
 * digest (an Arrow validity bitmap from bit valid_offset, or NULL when every row
 * does). */
typedef struct {
    int64_t rows;
    const uint64_t *hi, *lo;
    const uint8_t *valid;
    int64_t valid_offset;
    int64_t first_tuple;
    uint32_t slot;
} MemberColumn;

static inline int column_holds(const MemberColumn *c, int64_t row) {
    if (!c->valid) return 1;
    int64_t bit = c->valid_offset + row;
    return (c->valid[bit >> 3] >> (bit & 7)) & 1;
}

/* People of an identity state, for triage.identity.collector, from its members (one
 * per digest present in a row of one of the columns: digest halves hi and lo, tuple,
 * slot), read in place from polars' buffers. Sorts the members by digest into an
 * array of its own (m entries, as many as the columns hold; malloc'd here rather than
 * by numpy, which advises huge pages for large arrays: in a fresh process the first
 * touch of those pages cost the 2M-row lab export's resolution 0.75-0.98 s where
 * plain pages took 0.44-0.67 s): a scatter on the digest's
 * top_bits (8 to 16), then each bucket (best near 1 MiB, in cache) by sort_bucket;
 * polars' general sort of the same members cost about twice as much on two cores.
 * Then one pass in digest order numbers the distinct digests (node_hi, node_lo and
 * node_slot: each digest and the slot of one of its members; a digest's kind is in
 * its HMAC input, so all its members have the same kind) and joins the tuples that
 * share a digest by union-find, and a pass over the digests numbers people in the
 * order of their smallest digest: node_person[d] for each digest, tuple_person[t]
 * for each tuple (-1: a tuple with no member). Returns the number of digests, -1
 * when out of memory, -2 when the columns do not hold m members or name a tuple
 * outside 0..n_tuples-1. tuple_node is scratch space of n_tuples entries. */
int64_t triage_resolve_members(int64_t n_columns, const MemberColumn *columns, int64_t m,
                               int64_t n_tuples, int top_bits,
                               uint64_t *node_hi, uint64_t *node_lo, uint32_t *node_slot,
                               int64_t *tuple_node, int64_t *node_person,
                               int64_t *tuple_person, int64_t *people) {
    const int buckets = 1 << top_bits, top = 64 - top_bits;
    int64_t *start = calloc((size_t)buckets + 1, sizeof(int64_t));
    if (!start) return -1;
    for (int64_t k = 0; k < n_columns; k++) {
        const MemberColumn *c = &columns[k];
        for (int64_t r = 0; r < c->rows; r++)
            if (column_holds(c, r)) start[(c->hi[r] >> top) + 1]++;
    }
    int64_t largest = 0;
    for (int b = 0; b < buckets; b++) {
        if (start[b + 1] > largest) largest = start[b + 1];
        start[b + 1] += start[b];
    }
    if (start[buckets] != m) {
        free(start);
        return -2;
    }
    Member *sorted = malloc((size_t)(m ? m : 1) * sizeof(Member));
    Member *tmp = malloc((size_t)(largest ? largest : 1) * sizeof(Member));
    int64_t *next = malloc((size_t)buckets * sizeof(int64_t));
    if (!sorted || !tmp || !next) {
        free(start); free(sorted); free(tmp); free(next);
        return -1;
    }
    memcpy(next, start, (size_t)buckets * sizeof(int64_t));
    int64_t outside = 0;
    for (int64_t k = 0; k < n_columns; k++) {
        const MemberColumn *c = &columns[k];
        for (int64_t r = 0; r < c->rows; r++) {
            if (!column_holds(c, r)) continue;
            int64_t t = c->first_tuple + r;
            outside |= t < 0 || t >= n_tuples;
            Member *to = &sorted[next[c->hi[r] >> top]++];
            to->hi = c->hi[r];
            to->lo = c->lo[r];
            to->tuple = (uint32_t)t;
            to->slot = c->slot;
        }
    }
    for (int b = 0; b < buckets && !outside; b++)
        sort_bucket(sorted + start[b], start[b + 1] - start[b], tmp, top);
    free(start); free(tmp); free(next);
    if (outside) {
        free(sorted);
        return -2;
    }

    /* Union-find over the tuples (tuple_node as their links), not the digests: the
     * members of one digest are adjacent in digest order, so each is linked to the
     * run's first tuple, and a digest held once (most) costs no random access at
     * all; the tuples' links are also fewer than the digests' (2M against 3.8M on
     * the lab export), so more of them stay in cache. Roots are the smallest tuple
     * of their component. node_person[d] holds the first tuple of digest d until
     * the next loop puts the person there. */
    int64_t *link = tuple_node;
    for (int64_t t = 0; t < n_tuples; t++) link[t] = t;
    int64_t nodes = 0, run_tuple = 0;
    for (int64_t i = 0; i < m; i++) {
        if (i + 16 < m) __builtin_prefetch(&link[sorted[i + 16].tuple]);
        const Member *member = &sorted[i];
        if (i == 0 || member->hi != member[-1].hi || member->lo != member[-1].lo) {
            node_hi[nodes] = member->hi;
            node_lo[nodes] = member->lo;
            node_slot[nodes] = member->slot;
            node_person[nodes] = member->tuple;
            nodes++;
            run_tuple = member->tuple;
            continue;
        }
        int64_t a = find_root(link, run_tuple), b = find_root(link, member->tuple);
        if (a < b) link[b] = a;
        else if (b < a) link[a] = b;
    }
    /* People numbered in the order of their smallest digest: digests come in order,
     * so a component is first met at its smallest. tuple_person holds each root's
     * person number (-1: not met yet) until the last loop fills it tuple by tuple,
     * in ascending order: a root is at most its tuples, so it is already final. */
    int64_t count = 0;
    for (int64_t t = 0; t < n_tuples; t++) tuple_person[t] = -1;
    for (int64_t d = 0; d < nodes; d++) {
        if (d + 16 < nodes) __builtin_prefetch(&link[node_person[d + 16]]);
        int64_t root = find_root(link, node_person[d]);
        if (tuple_person[root] < 0) tuple_person[root] = count++;
        node_person[d] = tuple_person[root];
    }
    for (int64_t t = 0; t < n_tuples; t++) tuple_person[t] = tuple_person[find_root(link, t)];
    free(sorted);
    *people = count;
    return nodes;
}

/* Single-byte text (cp1252) to UTF-8 for triage.sources.delimited. table holds,
 * per input byte, its UTF-8 length (1 to 3) then its bytes, 4 bytes per entry,
 * built in Python from the codec itself. out must hold 3 * n bytes. Returns the
 * number of bytes written. Python's codec holds the GIL for ~45 ms per 16 MiB;
 * called through ctypes, this runs beside the parser without it. */
int64_t triage_transcode_single_byte(const uint8_t *in, int64_t n, const uint8_t *table,
                                     uint8_t *out) {
    uint8_t *start = out;
    int64_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            /* Most text is ASCII: eight bytes at a time while none has its high bit. */
            uint64_t word;
            memcpy(&word, in + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                memcpy(out, &word, 8);
                out += 8; i += 8;
                continue;
            }
        }
        uint8_t b = in[i++];
        if (b < 0x80) { *out++ = b; continue; }
        const uint8_t *entry = table + 4 * (size_t)b;
        for (uint8_t k = 0; k < entry[0]; k++) *out++ = entry[1 + k];
    }
    return (int64_t)(out - start);
}

/* MySQL/MariaDB INSERT value lists to CSV for triage.sources.sql, in one pass.
 *
 * Reads in[pos..n), the value lists of one INSERT statement (from its first
 * tuple, or from a tuple boundary), and appends each tuple to out[used..cap) as
 * one CSV record that polars reads with its defaults (quote '"', an empty
 * unquoted field is null): quoted strings fully decoded and written between '"'
 * (a '"' doubled), bare tokens written as they are (quoted when they start with
 * a non-ASCII byte, so that a leading BOM is kept), NULL as an empty field.
 *
 * The grammar is that of the exact tokenizer in sql.py (SqlDump._tokenize and
 * _decode_token), on the subset read here:
 *   between tuples  [ \t\r\n,]*
 *   tuple           '(' value (',' value)* ')' with exactly `width` values
 *   value           \s* (prefix? quoted | bare) \s*
 *   quoted          '...' with '' and, when backslash, \x escapes
 *                   (\0 \b \n \r \t \Z decoded, \% \_ kept, any other \x -> x)
 *   prefix          _[A-Za-z0-9]+\s* or one of xXbBnNeE (E only when backslash)
 *   bare            [^,()'"\s]+ ; NULL in any case is a null
 *   end             ';' followed by '\n' or "\r\n" (what the scanner takes for
 *                   the end of an INSERT; only reached outside quotes here)
 * Anything else (double-quoted strings, expressions, ragged tuples, invalid
 * UTF-8, a ';' elsewhere) returns TRIAGE_SQL_BAIL and the caller re-reads the
 * statement with the exact tokenizer.
 *
 * When a statement ends and the next one starts with the same `header` (the
 * bytes from INSERT to the first tuple, as the scanner matched them) directly
 * followed by '(', its tuples are read on in the same call, up to ends_cap
 * statements and while less than `soft` bytes of out are used: dumps with one
 * row per INSERT cost one call per block, not one per row. ends[] gets the
 * index of each statement's ';' and res[5] their count.
 *
 * Returns TRIAGE_SQL_END (res[0] = index of the last ';' read), TRIAGE_SQL_MORE
 * (the input ends inside the first statement), TRIAGE_SQL_FULL (out is full) or
 * TRIAGE_SQL_BAIL. Stopping inside a later statement returns TRIAGE_SQL_END for
 * those before it. In every case res[1..4] describe the tuples completed:
 * res[1] = index where the next one starts (its '(', or the last ';' read),
 * res[2] = out used after them, res[3] = their count, res[4] = how many of
 * them hold U+FFFD (the exact path counts those as undecodable), and
 * stats[0..width) / stats[width..2*width) = per column, the bytes of their
 * values and their nulls (for the caller's check of what polars parsed).
 * stats must hold 6 * width; the rest is scratch.
 */
#define TRIAGE_SQL_END 0
#define TRIAGE_SQL_MORE 1
#define TRIAGE_SQL_FULL 2
#define TRIAGE_SQL_BAIL 3

static int sql_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int sql_bare(uint8_t c) {
    return !(sql_space(c) || c == ',' || c == '(' || c == ')' || c == '\'' || c == '"');
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid, -1 if
 * the input ends inside it. */
static int utf8_sequence(const uint8_t *p, int64_t avail) {
    uint8_t c = p[0], lo = 0x80, hi = 0xBF;
    int len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else return 0;
    for (int k = 1; k < len; k++) {
        if (k >= avail) return -1;
        uint8_t d = p[k];
        if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return 0;
    }
    return len;
}

int64_t triage_mysql_values(const uint8_t *in, int64_t pos, int64_t n, int64_t width,
                            int backslash, const uint8_t *header, int64_t header_len,
                            uint8_t *out, int64_t used, int64_t soft, int64_t cap,
                            int64_t *res, int64_t *stats, int64_t *ends, int64_t ends_cap) {
    int64_t i = pos, o = used, tuples = 0, bad = 0, statements = 0;
    int64_t statement_used = used, statement_tuples = 0, statement_bad = 0;
    int64_t *tuple_bytes = stats + 2 * width, *tuple_nulls = stats + 3 * width;
    int64_t *col_bytes = stats + 4 * width, *col_nulls = stats + 5 * width;
    int status;
    /* Bytes copied as they are: ASCII bare-token bytes; ASCII string bytes but the
     * quote, '"' and (with backslash escapes) the backslash. */
    uint8_t bare_plain[256], string_plain[256];
    for (int c = 0; c < 256; c++) {
        bare_plain[c] = c < 0x80 && sql_bare((uint8_t)c);
        string_plain[c] = c < 0x80 && c != '\'' && c != '"' && !(c == '\\' && backslash);
    }
    for (int64_t j = 0; j < 2 * width; j++) col_bytes[j] = 0; /* and col_nulls */
#define SQL_STOP(s) do { status = (s); goto stop; } while (0)
#define SQL_PUT(b) do { if (o >= cap) SQL_STOP(TRIAGE_SQL_FULL); out[o++] = (uint8_t)(b); } while (0)
    for (;;) {
        while (i < n && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n'
                         || in[i] == ','))
            i++;
        res[1] = i; res[2] = o; res[3] = tuples; res[4] = bad;
        if (i >= n) SQL_STOP(TRIAGE_SQL_MORE);
        if (in[i] == ';') {
            if (i + 1 >= n || (in[i + 1] == '\r' && i + 2 >= n)) SQL_STOP(TRIAGE_SQL_MORE);
            if (in[i + 1] == '\n' || (in[i + 1] == '\r' && in[i + 2] == '\n')) {
                ends[statements++] = i;
                statement_used = o; statement_tuples = tuples; statement_bad = bad;
                memcpy(stats, col_bytes, 2 * (size_t)width * sizeof(int64_t));
                int64_t next = i + (in[i + 1] == '\r' ? 3 : 2);
                if (statements < ends_cap && o < soft && header_len > 0
                    && next + header_len < n && memcmp(in + next, header, (size_t)header_len) == 0
                    && in[next + header_len] == '(') {
                    i = next + header_len; /* the same INSERT again: read on */
                    continue;
                }
                res[0] = i; res[5] = statements;
                return TRIAGE_SQL_END;
            }
            SQL_STOP(TRIAGE_SQL_BAIL);
        }
        if (in[i] != '(') SQL_STOP(TRIAGE_SQL_BAIL);
        i++;
        int64_t field = 0;
        int row_bad = 0;
        for (;;) {
            while (i < n && sql_space(in[i])) i++;
            if (i >= n) SQL_STOP(TRIAGE_SQL_MORE);
            if (field >= width) SQL_STOP(TRIAGE_SQL_BAIL);
            if (field) SQL_PUT(',');
            int64_t length = 0, start = i;
            int null = 0, quoted = 0;
            uint8_t c = in[i];
            if (c == '"' || c == ',' || c == '(' || c == ')') SQL_STOP(TRIAGE_SQL_BAIL);
            if (c != '\'') {
                while (i < n && sql_bare(in[i])) {
                    while (i < n && bare_plain[in[i]]) i++;
                    if (i >= n || in[i] < 0x80) continue;
                    int len = utf8_sequence(in + i, n - i);
                    if (len < 0) SQL_STOP(TRIAGE_SQL_MORE);
                    if (len == 0) SQL_STOP(TRIAGE_SQL_BAIL);
                    if (len == 3 && in[i] == 0xEF && in[i + 1] == 0xBF && in[i + 2] == 0xBD) row_bad = 1;
                    i += len;
                }
                if (i >= n) SQL_STOP(TRIAGE_SQL_MORE);
                int64_t bare = i - start;
                int underscore = in[start] == '_' && bare > 1;
                for (int64_t k = start + 1; underscore && k < i; k++) {
                    uint8_t d = in[k];
                    underscore = (d >= '0' && d <= '9') || (d >= 'A' && d <= 'Z') || (d >= 'a' && d <= 'z');
                }
                int64_t after = i;
                while (underscore && after < n && sql_space(in[after])) after++;
                if (after >= n) SQL_STOP(TRIAGE_SQL_MORE);
                if (in[after] == '\'') {
                    uint8_t p = in[start];
                    int letter = bare == 1 && (p == 'x' || p == 'X' || p == 'b' || p == 'B' || p == 'n'
                                               || p == 'N' || ((p == 'e' || p == 'E') && backslash));
                    if (!letter && !underscore) SQL_STOP(TRIAGE_SQL_BAIL);
                    i = after;
                    quoted = 1;
                } else if (bare == 4 && (in[start] | 0x20) == 'n' && (in[start + 1] | 0x20) == 'u'
                           && (in[start + 2] | 0x20) == 'l' && (in[start + 3] | 0x20) == 'l') {
                    null = 1;
                } else {
                    int wrap = in[start] >= 0x80;
                    if (o + bare + 2 > cap) SQL_STOP(TRIAGE_SQL_FULL);
                    if (wrap) out[o++] = '"';
                    memcpy(out + o, in + start, (size_t)bare);
                    o += bare;
                    if (wrap) out[o++] = '"';
                    length = bare;
                }
            } else {
                quoted = 1;
            }
            if (quoted) {
                i++; /* the opening quote */
                SQL_PUT('"');
                for (;;) {
                    int64_t plain = i;
                    while (i < n && string_plain[in[i]]) i++;
                    if (i > plain) {
                        if (o + (i - plain) > cap) SQL_STOP(TRIAGE_SQL_FULL);
                        memcpy(out + o, in + plain, (size_t)(i - plain));
                        o += i - plain;
                        length += i - plain;
                    }
                    if (i >= n) SQL_STOP(TRIAGE_SQL_MORE);
                    uint8_t d = in[i];
                    if (d == '\'') {
                        if (i + 1 >= n) SQL_STOP(TRIAGE_SQL_MORE);
                        if (in[i + 1] != '\'') { i++; break; }
                        SQL_PUT('\''); length++; i += 2;
                    } else if (d == '\\' && backslash) {
                        if (i + 1 >= n) SQL_STOP(TRIAGE_SQL_MORE);
                        uint8_t e = in[i + 1];
                        i += 2;
                        switch (e) {
                        case '0': SQL_PUT(0); length++; break;
                        case 'b': SQL_PUT('\b'); length++; break;
                        case 'n': SQL_PUT('\n'); length++; break;
                        case 'r': SQL_PUT('\r'); length++; break;
                        case 't': SQL_PUT('\t'); length++; break;
                        case 'Z': SQL_PUT(0x1a); length++; break;
                        case '%': case '_': SQL_PUT('\\'); SQL_PUT(e); length += 2; break;
                        case '"': SQL_PUT('"'); SQL_PUT('"'); length++; break;
                        default:
                            if (e < 0x80) { SQL_PUT(e); length++; break; }
                            i -= 1; /* a multi-byte character: itself, validated below */
                        }
                    } else if (d == '"') {
                        SQL_PUT('"'); SQL_PUT('"'); length++; i++;
                    } else if (d < 0x80) {
                        SQL_PUT(d); length++; i++;
                    } else {
                        int len = utf8_sequence(in + i, n - i);
                        if (len < 0) SQL_STOP(TRIAGE_SQL_MORE);
                        if (len == 0) SQL_STOP(TRIAGE_SQL_BAIL);
                        if (len == 3 && d == 0xEF && in[i + 1] == 0xBF && in[i + 2] == 0xBD) row_bad = 1;
                        for (int k = 0; k < len; k++) SQL_PUT(in[i + k]);
                        length += len; i += len;
                    }
                }
                SQL_PUT('"');
            }
            tuple_bytes[field] = length;
            tuple_nulls[field] = null;
            field++;
            while (i < n && sql_space(in[i])) i++;
            if (i >= n) SQL_STOP(TRIAGE_SQL_MORE);
            if (in[i] == ',') { i++; continue; }
            if (in[i] == ')') { i++; break; }
            SQL_STOP(TRIAGE_SQL_BAIL);
        }
        if (field != width) SQL_STOP(TRIAGE_SQL_BAIL);
        SQL_PUT('\n');
        for (int64_t j = 0; j < width; j++) {
            col_bytes[j] += tuple_bytes[j];
            col_nulls[j] += tuple_nulls[j];
        }
        tuples++;
        bad += row_bad;
    }
stop:
    if (statements) {
        /* Stopped in a statement after the first: end with the last one read whole. */
        res[0] = res[1] = ends[statements - 1];
        res[2] = statement_used; res[3] = statement_tuples; res[4] = statement_bad;
        res[5] = statements;
        return TRIAGE_SQL_END;
    }
    memcpy(stats, col_bytes, 2 * (size_t)width * sizeof(int64_t));
    res[0] = i; res[5] = 0;
    return status;
#undef SQL_PUT
#undef SQL_STOP
}

/* Delimited UTF-8 text to Arrow string_view columns, for triage.sources.delimited.
 *
 * Splits in[0..n), whole records, into `width` columns of views (16 bytes a
 * value, Arrow's and polars' string_view layout). A value of up to 12 bytes is
 * inline in its view; a longer one is left pointing into the input (or into
 * `scratch`, unquoted), and column_bytes[c] gets the bytes of column c's long
 * values. The caller then gives each column a buffer of that size and
 * triage_gather_long_values copies them there, so that values stay together by
 * column, as polars' reader lays them out (views into the input itself made
 * every later pass over one column read one cache line per row: the profile
 * took 35 % longer), and a column kept alone keeps only its own bytes.
 * views[c] must hold `capacity` views; `scratch` must hold n bytes when the
 * input has quotes.
 *
 * Returns the number of records, or -1 when the chunk needs the general path
 * (polars' reader, then the exact record-by-record one):
 *   - a record with other than `width` fields (ragged, or a blank line);
 *   - a quote inside an unquoted value, or anything but a delimiter or a line
 *     end after a closing quote, or a quote that never closes;
 *   - a '\r' outside quotes that does not end a line ("\r\n");
 *   - invalid UTF-8; more than `capacity` records; n over 2 GiB; width < 2;
 *   - a byte-order mark at its start (polars would drop it).
 * `utf8_checked`: the caller made the text itself (a transcoder's output), so a
 * chunk without quotes skips its UTF-8 check (~4 ms per 16 MiB).
 * On what it accepts, the values are exactly polars' (quote -1 for none): a
 * quoted value is unquoted and its doubled quotes undoubled, "\r\n" ends a line
 * like '\n', an empty value is "" (never null), and the last record may lack
 * its line end. The tests compare it with polars' reader on every case. */
/* Byte masks keeping the first `len` bytes of an inline value's 8 + 4 bytes. */
static const uint64_t INLINE_LOW[13] = {
    0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFULL, 0xFFFFFFFFFFFFULL,
    0xFFFFFFFFFFFFFFULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL};
static const uint32_t INLINE_HIGH[13] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF};

static inline void put_view(uint8_t *view, const uint8_t *value, int64_t len,
                            int32_t buffer, int64_t offset, const uint8_t *end) {
    int32_t length = (int32_t)len;
    uint64_t low;
    uint32_t high;
    if (value + 12 <= end) {
        /* Both forms are computed and one is kept, without a branch: whether a value
         * is inline changes from value to value, and mispredictions cost more. */
        uint32_t prefix;
        memcpy(&low, value, 8);
        memcpy(&high, value + 8, 4);
        memcpy(&prefix, value, 4);
        int inline_value = len <= 12;
        int k = inline_value ? (int)len : 0;
        uint64_t long_low = (uint64_t)prefix | ((uint64_t)(uint32_t)buffer << 32);
        low = inline_value ? low & INLINE_LOW[k] : long_low;
        high = inline_value ? high & INLINE_HIGH[k] : (uint32_t)offset;
    } else if (len <= 12) {
        uint8_t bytes[12] = {0};
        memcpy(bytes, value, (size_t)len);
        memcpy(&low, bytes, 8);
        memcpy(&high, bytes + 8, 4);
    } else {
        uint32_t prefix;
        memcpy(&prefix, value, 4);
        low = (uint64_t)prefix | ((uint64_t)(uint32_t)buffer << 32);
        high = (uint32_t)offset;
    }
    memcpy(view, &length, 4);
    memcpy(view + 4, &low, 8);
    memcpy(view + 12, &high, 4);
}

/* Nonzero when a byte of w equals the byte repeated in `pattern` (its lowest flag
 * is exact: borrows only flag bytes above a real match). */
static inline uint64_t bytes_equal(uint64_t w, uint64_t pattern) {
    uint64_t x = w ^ pattern;
    return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

static int valid_utf8(const uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n;) {
        if (i + 16 <= n) {
            /* ASCII runs sixteen bytes at a time. */
            uint64_t a, b;
            memcpy(&a, p + i, 8);
            memcpy(&b, p + i + 8, 8);
            if (((a | b) & 0x8080808080808080ULL) == 0) { i += 16; continue; }
        }
        if (p[i] < 0x80) { i++; continue; }
        int len = utf8_sequence(p + i, n - i);
        if (len <= 0) return 0;
        i += len;
    }
    return 1;
}

/* Copies len bytes in 16-byte steps, which may write up to 31 bytes past the
 * value (the next value overwrites them) and read up to 31 past it, where both
 * sides have them (dst_end, src_end); else byte-exact. */
static inline void copy_value(uint8_t *dst, const uint8_t *src, int64_t len,
                              const uint8_t *dst_end, const uint8_t *src_end) {
    if (src + len + 32 > src_end || dst + len + 32 > dst_end) {
        memcpy(dst, src, (size_t)len);
        return;
    }
    /* Most long values are 13 to 32 bytes: two fixed copies, no loop to mispredict. */
    memcpy(dst, src, 16);
    memcpy(dst + 16, src + 16, 16);
    for (int64_t k = 32; k < len; k += 16) memcpy(dst + k, src + k, 16);
}

/* Second pass: long values from where the first pass left them (the input, or
 * `scratch` for quoted values with doubled quotes: the view's buffer index says which)
 * into each column's own buffer, 512 records at a time so that the input read
 * stays in cache while every column takes its values. */
void triage_gather_long_values(const uint8_t *in, int64_t n, const uint8_t *scratch,
                               int64_t rows, int64_t width, uint8_t *const *views,
                               uint8_t *const *columns, const int64_t *column_bytes,
                               int64_t *cursors) {
    memset(cursors, 0, sizeof(int64_t) * (size_t)width);
    const int32_t zero = 0;
    for (int64_t first = 0; first < rows; first += 512) {
        int64_t last = first + 512 < rows ? first + 512 : rows;
        for (int64_t c = 0; c < width; c++) {
            if (column_bytes[c] == 0) continue;  /* every value inline: nothing to move */
            uint8_t *out = columns[c];
            int64_t cursor = cursors[c];
            for (int64_t r = first; r < last; r++) {
                uint8_t *view = views[c] + 16 * r;
                int32_t len, buffer, at;
                memcpy(&len, view, 4);
                if (len <= 12) continue;
                memcpy(&buffer, view + 8, 4);
                memcpy(&at, view + 12, 4);
                const uint8_t *source = buffer ? scratch : in;
                copy_value(out + cursor, source + at, len, out + column_bytes[c], source + n);
                int32_t offset = (int32_t)cursor;
                memcpy(view + 8, &zero, 4);
                memcpy(view + 12, &offset, 4);
                cursor += len;
            }
            cursors[c] = cursor;
        }
    }
}

/* Any chunk, one value at a time: quoted values, "\r\n" line ends. */
static int64_t split_general(const uint8_t *in, int64_t n, int sep, int quote,
                             int64_t width, int64_t capacity, uint8_t *const *views,
                             uint8_t *scratch, int64_t *column_bytes) {
    /* Byte classes: 0 ordinary ASCII, 1 delimiter, 2 '\n', 3 '\r', 4 quote, 5 >= 0x80. */
    uint8_t kind[256];
    memset(kind, 0, 128);
    memset(kind + 128, 5, 128);
    kind[(uint8_t)sep] = 1;
    kind['\n'] = 2;
    kind['\r'] = 3;
    if (quote >= 0) kind[(uint8_t)quote] = 4;
    uint64_t delimiters = 0x0101010101010101ULL * (uint8_t)sep;
    /* Without a quote character, the delimiter stands in for it (it stops the scan anyway). */
    uint64_t quotes = 0x0101010101010101ULL * (uint8_t)(quote >= 0 ? quote : sep);
    int64_t rows = 0, column = 0, i = 0, used = 0;
    while (i < n) {
        const uint8_t *value;
        int64_t len, at = 0;
        int32_t buffer = 0;
        if (quote >= 0 && in[i] == (uint8_t)quote) {
            int64_t start = i + 1, from = start;
            int doubled = 0;
            for (;;) {
                const uint8_t *q = memchr(in + from, quote, (size_t)(n - from));
                if (q == NULL) return -1;
                int64_t k = q - in;
                if (k + 1 < n && in[k + 1] == (uint8_t)quote) {
                    /* A doubled quote: the value so far, with one quote, goes to buffer 1. */
                    if (!doubled) { doubled = 1; at = used; }
                    memcpy(scratch + used, in + from, (size_t)(k + 1 - from));
                    used += k + 1 - from;
                    from = k + 2;
                    continue;
                }
                if (doubled) {
                    memcpy(scratch + used, in + from, (size_t)(k - from));
                    used += k - from;
                    value = scratch + at;
                    len = used - at;
                    buffer = 1;
                } else {
                    value = in + start;
                    len = k - start;
                    at = start;
                }
                if (!valid_utf8(in + start, k - start)) return -1;
                i = k + 1;
                break;
            }
            if (i < n && kind[in[i]] != 1 && kind[in[i]] != 2 && kind[in[i]] != 3) return -1;
        } else {
            int64_t j = i;
            for (;;) {
                /* Eight bytes at a time to the first one that is not plain ASCII text. */
                while (j + 8 <= n) {
                    uint64_t w;
                    memcpy(&w, in + j, 8);
                    uint64_t stop = (w & 0x8080808080808080ULL) | bytes_equal(w, delimiters)
                                    | bytes_equal(w, 0x0A0A0A0A0A0A0A0AULL)
                                    | bytes_equal(w, 0x0D0D0D0D0D0D0D0DULL) | bytes_equal(w, quotes);
                    if (stop) { j += __builtin_ctzll(stop) >> 3; break; }
                    j += 8;
                }
                while (j < n && kind[in[j]] == 0) j++;
                if (j < n && kind[in[j]] == 5) {
                    int step = utf8_sequence(in + j, n - j);
                    if (step <= 0) return -1;
                    j += step;
                    continue;
                }
                break;
            }
            value = in + i;
            len = j - i;
            at = i;
            i = j;
        }
        if (column >= width || rows >= capacity) return -1;
        put_view(views[column] + 16 * rows, value, len, buffer, at, (buffer ? scratch : in) + n);
        if (len > 12) column_bytes[column] += len;
        column++;
        /* What ends the value: a delimiter, a line end, or the end of the input. */
        if (i < n && in[i] == (uint8_t)sep) {
            i++;
            if (i == n) {  /* a last record ending with a delimiter: one more empty value */
                if (column >= width) return -1;
                put_view(views[column] + 16 * rows, in, 0, 0, 0, in + n);
                column++;
            } else {
                continue;
            }
        } else if (i < n && in[i] == '\r') {
            if (i + 1 >= n || in[i + 1] != '\n') return -1;
            i += 2;
        } else if (i < n && in[i] == '\n') {
            i++;
        } else if (i < n) {
            return -1;  /* a quote inside an unquoted value */
        }
        if (column != width) return -1;
        rows++;
        column = 0;
    }
    return rows;
}

/* Bit k set where block[k] is the delimiter or '\n', for 64 bytes; *cr gets
 * the bits of '\r'. */
static inline uint64_t structural_bits(const uint8_t *block, uint8_t sep, uint64_t *cr) {
#if defined(__SSE2__)
    const __m128i delimiter = _mm_set1_epi8((char)sep), newline = _mm_set1_epi8('\n'),
                  carriage_return = _mm_set1_epi8('\r');
    uint64_t bits = 0, returns = 0;
    for (int k = 0; k < 4; k++) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(block + 16 * k));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(bytes, delimiter),
                                   _mm_cmpeq_epi8(bytes, newline));
        bits |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * k);
        returns |= (uint64_t)(uint16_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(bytes, carriage_return)) << (16 * k);
    }
    *cr = returns;
    return bits;
#else
    uint64_t bits = 0, returns = 0;
    for (int k = 0; k < 64; k++) {
        bits |= (uint64_t)(block[k] == sep || block[k] == '\n') << k;
        returns |= (uint64_t)(block[k] == '\r') << k;
    }
    *cr = returns;
    return bits;
#endif
}

/* A chunk with no quote (most exports), of valid UTF-8 (checked by the caller):
 * values end at the set bits of a 64-byte mask of delimiters and line
 * ends, visited in order; per value there is no branch on its bytes or length,
 * which the value-at-a-time loop mispredicted about once a value. A '\r' is
 * taken only as part of a "\r\n" line end: all of the chunk's must be. */
static int64_t split_plain(const uint8_t *in, int64_t n, uint8_t sep, int64_t width,
                           int64_t capacity, uint8_t *const *views, int64_t *column_bytes) {
    const uint8_t *end = in + n;
    int64_t rows = 0, column = 0, start = 0, line_ends_with_cr = 0, carriage_returns = 0;
    for (int64_t base = 0; base < n; base += 64) {
        uint64_t bits, cr;
        if (base + 64 <= n) {
            bits = structural_bits(in + base, sep, &cr);
        } else {
            uint8_t tail[64] = {0};
            memcpy(tail, in + base, (size_t)(n - base));
            bits = structural_bits(tail, sep, &cr);
        }
        carriage_returns += __builtin_popcountll(cr);
        while (bits) {
            int64_t stop = base + __builtin_ctzll(bits);
            bits &= bits - 1;
            int64_t len = stop - start;
            if (in[stop] == '\n' && len > 0 && in[stop - 1] == '\r') {
                len--;
                line_ends_with_cr++;
            }
            if (column >= width || rows >= capacity) return -1;
            put_view(views[column] + 16 * rows, in + start, len, 0, start, end);
            column_bytes[column] += len > 12 ? len : 0;
            column++;
            start = stop + 1;
            if (in[stop] == '\n') {
                if (column != width) return -1;
                rows++;
                column = 0;
            }
        }
    }
    if (start < n || column > 0) {  /* a last record without its line end */
        int64_t len = n - start;
        if (column >= width || rows >= capacity) return -1;
        put_view(views[column] + 16 * rows, in + start, len, 0, start, end);
        column_bytes[column] += len > 12 ? len : 0;
        if (column + 1 != width) return -1;
        rows++;
    }
    return line_ends_with_cr == carriage_returns ? rows : -1;
}


int64_t triage_split_delimited(const uint8_t *in, int64_t n, int sep, int quote,
                               int64_t width, int64_t capacity, uint8_t *const *views,
                               uint8_t *scratch, int64_t *column_bytes, int utf8_checked) {
    memset(column_bytes, 0, sizeof(int64_t) * (size_t)(width > 0 ? width : 0));
    if (n > INT32_MAX || width < 2 || sep == '\n' || sep == '\r' || sep == quote || sep == 0)
        return -1;
    /* polars drops a byte-order mark that starts its input; the reader drops the
     * file's own, so one here follows a cut (concatenated exports): polars decides. */
    if (n >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF) return -1;
    int plain = quote < 0 || memchr(in, quote, (size_t)n) == NULL;
    if (plain && !utf8_checked && !valid_utf8(in, n)) return -1;
    return plain ? split_plain(in, n, (uint8_t)sep, width, capacity, views, column_bytes)
                 : split_general(in, n, sep, quote, width, capacity, views, scratch,
                                 column_bytes);
}
