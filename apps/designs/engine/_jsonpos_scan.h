/* The scanner of _jsonpos.c, included once per string kind with CHAR and FN defined. */

typedef struct {
    const CHAR *data;
    Py_ssize_t length;
    Py_ssize_t pos;
    Py_ssize_t line;       /* 1-based line of pos */
    Py_ssize_t line_start; /* offset where that line starts */
    Found *out;
    int depth; /* containers open around pos */
} SCAN;

#define AT(c) (s->pos < s->length && s->data[s->pos] == (c))
#define HERE(s) (((long long)(s)->line << 32) | (long long)((s)->pos - (s)->line_start + 1))

static void FN(skip_ws)(SCAN *s) {
    while (s->pos < s->length) {
        CHAR c = s->data[s->pos];
        if (c == '\n') {
            s->line++;
            s->line_start = s->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        s->pos++;
    }
}

/* pos is on the opening quote; leaves pos after the closing one. Returns 0 on an unterminated
   string; sets *escaped when the string holds a backslash. */
static int FN(skip_string)(SCAN *s, int *escaped) {
    const CHAR *data = s->data;
    Py_ssize_t i = s->pos + 1, length = s->length;
    *escaped = 0;
    while (i < length) {
#ifdef __SSE2__
        /* Most of a document is string contents: look at 16 bytes at a time for a quote or a
           backslash. */
        enum { PER = 16 / sizeof(CHAR) };
        while (i + PER <= length) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)(data + i));
            int mask = _mm_movemask_epi8(_mm_or_si128(VECTOR_EQ(chunk, VECTOR_SET('"')), VECTOR_EQ(chunk, VECTOR_SET('\\'))));
            if (mask) {
                i += __builtin_ctz(mask) / sizeof(CHAR);
                goto stop;
            }
            i += PER;
        }
#endif
        while (i < length && data[i] != '"' && data[i] != '\\') {
            i++;
        }
#ifdef __SSE2__
    stop:
#endif
        if (i >= length) {
            return 0;
        }
        if (data[i] == '"') {
            s->pos = i + 1;
            return 1;
        }
        *escaped = 1;
        i += 2;
    }
    return 0;
}

static int FN(skip_scalar)(SCAN *s) {
    if (AT('"')) {
        int escaped;
        return FN(skip_string)(s, &escaped);
    }
    Py_ssize_t start = s->pos;
    while (s->pos < s->length) {
        CHAR c = s->data[s->pos];
        if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            break;
        }
        s->pos++;
    }
    return s->pos > start;
}

/* 1 when the raw key text at [start, end) (quotes excluded, no escapes) equals `key`. */
static int FN(same_key)(SCAN *s, Py_ssize_t start, Py_ssize_t end, PyObject *key) {
    if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != end - start) {
        return 0;
    }
    const CHAR *text = s->data + start;
    Py_ssize_t length = end - start;
    if (PyUnicode_KIND(key) == PyUnicode_1BYTE_KIND) { /* keys are nearly always ASCII */
        const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(key);
        if (sizeof(CHAR) == 1) {
            return memcmp(chars, text, length) == 0;
        }
        for (Py_ssize_t i = 0; i < length; i++) {
            if ((CHAR)chars[i] != text[i]) {
                return 0;
            }
        }
        return 1;
    }
    int kind = PyUnicode_KIND(key);
    const void *data = PyUnicode_DATA(key);
    for (Py_ssize_t i = 0; i < length; i++) {
        if (PyUnicode_READ(kind, data, i) != (Py_UCS4)text[i]) {
            return 0;
        }
    }
    return 1;
}

/* Separator before member i, then whitespace. 0 when it is missing. */
static int FN(next_member)(SCAN *s, Py_ssize_t i) {
    FN(skip_ws)(s);
    if (i > 0) {
        if (!AT(',')) {
            return 0;
        }
        s->pos++;
        FN(skip_ws)(s);
    }
    return 1;
}

/* The value at pos: containers are walked, scalars skipped. 1 matched, 0 the text disagrees with
   the data, -1 a Python error. `where` is the position a pointer to the value names. */
static int FN(walk)(SCAN *s, PyObject *node, long long where) {
    int is_dict = PyDict_CheckExact(node);
    if (!is_dict && !PyList_CheckExact(node)) {
        return FN(skip_scalar)(s);
    }
    if (!AT(is_dict ? '{' : '[') || s->depth >= MAX_DEPTH) {
        return 0; /* deeper than json.loads goes by default: let the caller walk instead */
    }
    s->depth++;
    Py_ssize_t size = is_dict ? PyDict_GET_SIZE(node) : PyList_GET_SIZE(node);
    Py_ssize_t first = found_add(s->out, node, where, size);
    if (first < 0) {
        return -1;
    }
    s->pos++;
    if (is_dict) {
        Py_ssize_t index = 0, i = 0;
        PyObject *key, *value;
        while (PyDict_Next(node, &index, &key, &value)) {
            if (!FN(next_member)(s, i) || !AT('"')) {
                return 0;
            }
            long long key_where = HERE(s);
            Py_ssize_t key_at = s->pos;
            int escaped;
            if (!FN(skip_string)(s, &escaped) || (!escaped && !FN(same_key)(s, key_at + 1, s->pos - 1, key))) {
                return 0;
            }
            FN(skip_ws)(s);
            if (!AT(':')) {
                return 0;
            }
            s->pos++;
            FN(skip_ws)(s);
            s->out->members[first + i++] = key_where;
            if (PyUnicode_Check(key) && PyUnicode_GET_LENGTH(key) >= 2) {
                Py_UCS4 head = PyUnicode_READ_CHAR(key, 0);
                if (head == 'x' && PyUnicode_READ_CHAR(key, 1) == '-' && PySet_Add(s->out->extensions, key) < 0) {
                    return -1;
                }
                if (head == '$' && PyUnicode_GET_LENGTH(key) == 4 && PyUnicode_CompareWithASCIIString(key, "$ref") == 0 &&
                    PyUnicode_Check(value) && PySet_Add(s->out->refs, value) < 0) {
                    return -1;
                }
            }
            int matched = FN(walk)(s, value, key_where);
            if (matched != 1) {
                return matched;
            }
        }
    } else {
        for (Py_ssize_t i = 0; i < size; i++) {
            if (!FN(next_member)(s, i)) {
                return 0;
            }
            long long item_where = HERE(s);
            s->out->members[first + i] = item_where;
            int matched = FN(walk)(s, PyList_GET_ITEM(node, i), item_where);
            if (matched != 1) {
                return matched;
            }
        }
    }
    FN(skip_ws)(s);
    if (!AT(is_dict ? '}' : ']')) {
        return 0; /* more members in the text than in the data: a duplicate key */
    }
    s->pos++;
    s->depth--;
    return 1;
}

#undef AT
#undef HERE
