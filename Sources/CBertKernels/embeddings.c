/* bk_embeddings: word + position + token-type embeddings, with every index bounds-checked. */
#include "bk_internal.h"

bk_status bk_embeddings(const int32_t *ids, const int32_t *types, int64_t batch, int64_t seq, const float *word,
                        int64_t vocab, const float *position, int64_t max_position, const float *token_type,
                        int64_t type_vocab, int64_t hidden, float *out) {
    if (batch < 0 || seq < 0 || hidden < 1 || seq > max_position) return BK_ERR_ARGUMENT;
    if (batch == 0 || seq == 0) return BK_OK;
    if (batch > INT64_MAX / seq || batch * seq > INT64_MAX / hidden) return BK_ERR_ARGUMENT;
    if (!ids || !types || !word || !position || !token_type || !out) return BK_ERR_ARGUMENT;
    for (int64_t i = 0; i < batch * seq; i++) {
        if (ids[i] < 0 || ids[i] >= vocab || types[i] < 0 || types[i] >= type_vocab) return BK_ERR_ARGUMENT;
    }
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t s = 0; s < seq; s++) {
            int64_t i = b * seq + s;
            const float *w = word + (int64_t)ids[i] * hidden;
            const float *p = position + s * hidden;
            const float *t = token_type + (int64_t)types[i] * hidden;
            float *o = out + i * hidden;
            for (int64_t d = 0; d < hidden; d++) o[d] = (w[d] + t[d]) + p[d];
        }
    }
    return BK_OK;
}
