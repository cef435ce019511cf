/* The scanner of _jsonpos.c, included once per string kind with CHAR and FN defined. Every read
   of the text checks `pos < length` first; nothing is read past the end of a string. */

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
           backslash, never past the end (i + PER <= length). */
        enum { PER = 16 / sizeof(CHAR) };
        while (i + PER <= length) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)(data + i));
            int mask = _mm_movemask_epi8(_mm_or_si128(VECTOR_EQ(chunk, VECTOR_SET('"')), VECTOR_EQ(chunk, VECTOR_SET('\\'))));
            if (mask) {
                i += __builtin_ctz((unsigned)mask) / sizeof(CHAR);
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
        i += 2; /* the backslash and the character it escapes; the loop checks the bound */
    }
    return 0;
}

/* A scalar that is not a string: anything up to the next separator. 0 when there is none. */
static int FN(skip_bare)(SCAN *s) {
    Py_ssize_t start = s->pos;
    while (s->pos < s->length) {
        CHAR c = s->data[s->pos];
        if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            break;
        }
        if (c == '"' || c == '{' || c == '[' || c == ':') {
            return 0; /* the text holds something else where the data has a number, true or null */
        }
        s->pos++;
    }
    return s->pos > start;
}

/* The hex value of a JSON \uXXXX escape whose digits start at i (before end), or -1. */
static long FN(hex4)(const CHAR *text, Py_ssize_t i, Py_ssize_t end) {
    if (end - i < 4) {
        return -1;
    }
    long value = 0;
    for (int k = 0; k < 4; k++) {
        CHAR c = text[i + k];
        int digit = c >= '0' && c <= '9' ? (int)(c - '0')
                    : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
                    : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10)
                                           : -1;
        if (digit < 0) {
            return -1;
        }
        value = value * 16 + digit;
    }
    return value;
}

/* 1 when the key text at [start, end) (quotes excluded), with its escapes read as json.loads reads
   them, is the str `key`. */
static int FN(same_key)(SCAN *s, Py_ssize_t start, Py_ssize_t end, PyObject *key, int escaped) {
    if (!PyUnicode_CheckExact(key)) {
        return 0; /* json.loads makes str keys only */
    }
    const CHAR *text = s->data;
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    int kind = PyUnicode_KIND(key);
    const void *chars = PyUnicode_DATA(key);
    if (!escaped) {
        if (length != end - start) {
            return 0;
        }
        if (kind == PyUnicode_1BYTE_KIND && sizeof(CHAR) == 1) { /* keys are nearly always ASCII */
            return memcmp(chars, text + start, (size_t)length) == 0;
        }
        for (Py_ssize_t i = 0; i < length; i++) {
            if (PyUnicode_READ(kind, chars, i) != (Py_UCS4)text[start + i]) {
                return 0;
            }
        }
        return 1;
    }
    Py_ssize_t i = start, j = 0;
    while (i < end) {
        Py_UCS4 c = text[i++];
        if (c == '\\') {
            if (i >= end) {
                return 0;
            }
            CHAR e = text[i++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                long unit = FN(hex4)(text, i, end);
                if (unit < 0) {
                    return 0;
                }
                i += 4;
                c = (Py_UCS4)unit;
                /* A high surrogate followed by an escaped low one is one character, as json.loads
                   reads it; alone, each stays the surrogate it is. */
                if (unit >= 0xD800 && unit <= 0xDBFF && end - i >= 6 && text[i] == '\\' && text[i + 1] == 'u') {
                    long low = FN(hex4)(text, i + 2, end);
                    if (low >= 0xDC00 && low <= 0xDFFF) {
                        c = 0x10000 + (((Py_UCS4)unit - 0xD800) << 10) + ((Py_UCS4)low - 0xDC00);
                        i += 6;
                    }
                }
                break;
            }
            default:
                return 0;
            }
        }
        if (j >= length || PyUnicode_READ(kind, chars, j) != c) {
            return 0;
        }
        j++;
    }
    return j == length;
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
   the data, -1 a Python error. `where` is the position a pointer to the value names. No Python
   code runs during the walk (exact dicts, lists and str only), so the data cannot change under it. */
static int FN(walk)(SCAN *s, PyObject *node, long long where) {
    int is_dict = PyDict_CheckExact(node);
    if (!is_dict && !PyList_CheckExact(node)) {
        if (PyUnicode_CheckExact(node)) {
            int escaped;
            return AT('"') && FN(skip_string)(s, &escaped);
        }
        return FN(skip_bare)(s);
    }
    if (!AT(is_dict ? '{' : '[') || s->depth >= MAX_DEPTH) {
        return 0; /* deeper than json.loads goes by default: the caller walks the text instead */
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
            if (i >= size || !FN(next_member)(s, i) || !AT('"')) {
                return 0;
            }
            long long key_where = HERE(s);
            Py_ssize_t key_at = s->pos;
            int escaped;
            if (!FN(skip_string)(s, &escaped) || !FN(same_key)(s, key_at + 1, s->pos - 1, key, escaped)) {
                return 0;
            }
            FN(skip_ws)(s);
            if (!AT(':')) {
                return 0;
            }
            s->pos++;
            FN(skip_ws)(s);
            s->out->members[first + i++] = key_where;
            Py_ssize_t key_length = PyUnicode_GET_LENGTH(key); /* same_key checked it is a str */
            if (key_length >= 2 && PyUnicode_READ_CHAR(key, 0) == 'x' && PyUnicode_READ_CHAR(key, 1) == '-' &&
                PySet_Add(s->out->extensions, key) < 0) {
                return -1;
            }
            if (key_length == 4 && PyUnicode_CompareWithASCIIString(key, "$ref") == 0 && PyUnicode_CheckExact(value) &&
                PySet_Add(s->out->refs, value) < 0) {
                return -1;
            }
            Py_INCREF(value);
            int matched = FN(walk)(s, value, key_where);
            Py_DECREF(value);
            if (matched != 1) {
                return matched;
            }
        }
    } else {
        for (Py_ssize_t i = 0; i < size; i++) {
            if (i >= PyList_GET_SIZE(node) || !FN(next_member)(s, i)) {
                return 0;
            }
            long long item_where = HERE(s);
            s->out->members[first + i] = item_where;
            PyObject *item = Py_NewRef(PyList_GET_ITEM(node, i));
            int matched = FN(walk)(s, item, item_where);
            Py_DECREF(item);
            if (matched != 1) {
                return matched;
            }
        }
    }
    FN(skip_ws)(s);
    if (is_dict ? PyDict_GET_SIZE(node) != size : PyList_GET_SIZE(node) != size) {
        return 0;
    }
    if (!AT(is_dict ? '}' : ']')) {
        return 0; /* more members in the text than in the data: a duplicate key */
    }
    s->pos++;
    s->depth--;
    return 1;
}
