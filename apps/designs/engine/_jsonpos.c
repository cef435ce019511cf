/* Where each part of a loaded JSON document is written, and fast walks over loaded documents
   (objects, refs, schema_scan, sha256_hex24, utf8_length below), and the two builders of the
   model's records that run by the hundred thousand: Sources (a SourceRef per located node) and
   Reporter (a security finding per call). Pure functions of their arguments: no I/O, no state
   beyond the objects they build.

   Positions(text, data) walks the JSON text and the data that json.loads made of it side by
   side, in document order, and remembers for every dict and list in `data` where it is written
   (the position a JSON pointer to it names: its key when it is an object member, itself when
   it is an array item or the root) and where each of its members is. Positions are packed as
   (line << 32) | column, 1-based, columns counting characters.

     positions.get(node)          a dict or list of `data`; None for anything else
     positions.member(node, key)  the member `key` (a str of a dict, an int of a list); None if absent
     positions.extensions         a frozenset of every key starting with "x-", met on the way
     positions.refs               a frozenset of every str value of a `$ref` key, likewise

   The text is only scanned, never decoded: keys are compared with the loaded keys, and any
   disagreement (a duplicate key, which json.loads folds into one, or a text that is not the
   one `data` came from) raises ValueError, so that the caller can fall back to a slower
   locator; so does nesting past MAX_DEPTH, deeper than json.loads goes. The table keys
   containers by address and holds a reference to `data`, so no address can be reused while it
   exists; `data` must not be changed afterwards. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>

/* What the scan found: per container its address, position, and where its members' positions
   start in `members`. */
typedef struct {
    void **keys;
    long long *where;
    Py_ssize_t *first;
    Py_ssize_t used, allocated;
    long long *members;
    Py_ssize_t members_used, members_allocated;
    PyObject *extensions; /* a set: every key that starts with "x-" (OpenAPI's extensions) */
    PyObject *refs;       /* a set: every str value of a `$ref` key */
} Found;

static void found_free(Found *found) {
    Py_CLEAR(found->extensions);
    Py_CLEAR(found->refs);
    PyMem_Free(found->keys);
    PyMem_Free(found->where);
    PyMem_Free(found->first);
    PyMem_Free(found->members);
}

static int grow(void **array, Py_ssize_t count, size_t item) {
    void *bigger = PyMem_Realloc(*array, count * item);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = bigger;
    return 0;
}

/* Adds a container with `size` members; returns the index of its first member slot, -1 on error. */
static Py_ssize_t found_add(Found *found, PyObject *node, long long where, Py_ssize_t size) {
    if (found->used == found->allocated) {
        Py_ssize_t count = found->allocated ? found->allocated * 2 : 1024;
        if (grow((void **)&found->keys, count, sizeof(void *)) < 0 ||
            grow((void **)&found->where, count, sizeof(long long)) < 0 ||
            grow((void **)&found->first, count, sizeof(Py_ssize_t)) < 0) {
            return -1;
        }
        found->allocated = count;
    }
    if (found->members_used + size > found->members_allocated) {
        Py_ssize_t count = found->members_allocated ? found->members_allocated * 2 : 4096;
        while (count < found->members_used + size) {
            count *= 2;
        }
        if (grow((void **)&found->members, count, sizeof(long long)) < 0) {
            return -1;
        }
        found->members_allocated = count;
    }
    Py_ssize_t first = found->members_used;
    found->keys[found->used] = node;
    found->where[found->used] = where;
    found->first[found->used] = first;
    found->used++;
    found->members_used += size;
    return first;
}

/* The scan recurses once per nesting level; json.loads stops near 1,000 by default. A program
   that raised the recursion limit could load deeper data: past this, the caller's Python walk. */
#define MAX_DEPTH 4000

#define SCAN FN(Scan)

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CHAR Py_UCS1
#define FN(name) name##_1
#define VECTOR_EQ _mm_cmpeq_epi8
#define VECTOR_SET(c) _mm_set1_epi8(c)
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN
#undef VECTOR_EQ
#undef VECTOR_SET

#define CHAR Py_UCS2
#define FN(name) name##_2
#define VECTOR_EQ _mm_cmpeq_epi16
#define VECTOR_SET(c) _mm_set1_epi16(c)
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN
#undef VECTOR_EQ
#undef VECTOR_SET

#define CHAR Py_UCS4
#define FN(name) name##_4
#define VECTOR_EQ _mm_cmpeq_epi32
#define VECTOR_SET(c) _mm_set1_epi32(c)
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN
#undef VECTOR_EQ
#undef VECTOR_SET

/* Scans a text of one kind into `found`; sets `matched` to 1, 0 (disagreed) or -1 (error). */
#define RUN(suffix, type)                                                                            \
    do {                                                                                             \
        Scan_##suffix s = {(const type *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), 0, 1, 0, &found, 0}; \
        skip_ws_##suffix(&s);                                                                        \
        matched = walk_##suffix(&s, data, ((long long)s.line << 32) | (s.pos - s.line_start + 1));   \
        if (matched == 1) {                                                                          \
            skip_ws_##suffix(&s);                                                                    \
            matched = s.pos == s.length;                                                             \
        }                                                                                            \
    } while (0)

typedef struct {
    PyObject_HEAD
    PyObject *data; /* kept alive: the table's keys are the addresses of its containers */
    Found found; /* keys, where and first are freed once the table holds them */
    /* Open addressing, each entry holding what a lookup answers, so that one lookup touches one
       place in memory: the table is several megabytes and its entries are met in no order. */
    struct Entry {
        void *key; /* NULL: empty */
        long long where;
        Py_ssize_t first;
    } *table;
    Py_ssize_t mask;
} Positions;

typedef struct Entry Entry;

static inline Py_ssize_t slot_of(void *key, Py_ssize_t mask) {
    size_t h = (size_t)key >> 4;
    h *= (size_t)0x9E3779B97F4A7C15ULL;
    return (Py_ssize_t)((h >> 20) & (size_t)mask);
}

static void positions_dealloc(Positions *self) {
    Py_XDECREF(self->data);
    found_free(&self->found);
    PyMem_Free(self->table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int positions_init(Positions *self, PyObject *args, PyObject *kwargs) {
    PyObject *text, *data;
    static char *names[] = {"text", "data", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UO:Positions", names, &text, &data)) {
        return -1;
    }
    if (self->data != NULL) {
        PyErr_SetString(PyExc_TypeError, "Positions is built once");
        return -1;
    }
    Found found = {0};
    found.extensions = PySet_New(NULL);
    found.refs = found.extensions == NULL ? NULL : PySet_New(NULL);
    if (found.refs == NULL) {
        found_free(&found);
        return -1;
    }
    int matched;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        RUN(1, Py_UCS1);
        break;
    case PyUnicode_2BYTE_KIND:
        RUN(2, Py_UCS2);
        break;
    default:
        RUN(4, Py_UCS4);
        break;
    }
    if (matched != 1) {
        found_free(&found);
        if (matched == 0) {
            PyErr_SetString(PyExc_ValueError, "the text does not match the data (a duplicate key?)");
        }
        return -1;
    }
    Py_ssize_t size = 8;
    while (size < found.used * 2) {
        size *= 2;
    }
    Entry *table = PyMem_Calloc(size, sizeof(Entry));
    if (table == NULL) {
        found_free(&found);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < found.used; i++) {
        Py_ssize_t slot = slot_of(found.keys[i], size - 1);
        while (table[slot].key != NULL) {
            slot = (slot + 1) & (size - 1);
        }
        table[slot] = (Entry){found.keys[i], found.where[i], found.first[i]};
    }
    PyObject *extensions = PyFrozenSet_New(found.extensions);
    PyObject *refs = extensions == NULL ? NULL : PyFrozenSet_New(found.refs);
    if (refs == NULL) {
        Py_XDECREF(extensions);
        found_free(&found);
        PyMem_Free(table);
        return -1;
    }
    Py_SETREF(found.extensions, extensions);
    Py_SETREF(found.refs, refs);
    PyMem_Free(found.keys);
    PyMem_Free(found.where);
    PyMem_Free(found.first);
    found.keys = NULL;
    found.where = NULL;
    found.first = NULL;
    self->data = Py_NewRef(data);
    self->found = found;
    self->table = table;
    self->mask = size - 1;
    return 0;
}

/* The entry of a container of the data, or NULL. */
static const Entry *positions_find(Positions *self, PyObject *node) {
    if (self->table == NULL) {
        return NULL;
    }
    Py_ssize_t slot = slot_of(node, self->mask);
    while (self->table[slot].key != NULL) {
        if (self->table[slot].key == (void *)node) {
            return &self->table[slot];
        }
        slot = (slot + 1) & self->mask;
    }
    return NULL;
}

static PyObject *positions_get(Positions *self, PyObject *node) {
    const Entry *entry = positions_find(self, node);
    if (entry == NULL) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(entry->where);
}

static PyObject *positions_member(Positions *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "member(node, key) takes two arguments");
        return NULL;
    }
    PyObject *node = args[0], *wanted = args[1];
    const Entry *entry = positions_find(self, node);
    if (entry == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t first = entry->first;
    if (PyList_CheckExact(node)) {
        if (!PyLong_Check(wanted)) {
            Py_RETURN_NONE;
        }
        Py_ssize_t i = PyLong_AsSsize_t(wanted);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        if (i < 0 || i >= PyList_GET_SIZE(node)) {
            Py_RETURN_NONE;
        }
        return PyLong_FromLongLong(self->found.members[first + i]);
    }
    /* A dict: members were recorded in its iteration order. */
    Py_ssize_t position = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(node, &position, &key, &value)) {
        int same = key == wanted ? 1 : PyObject_RichCompareBool(key, wanted, Py_EQ);
        if (same < 0) {
            return NULL;
        }
        if (same) {
            return PyLong_FromLongLong(self->found.members[first + i]);
        }
        i++;
    }
    Py_RETURN_NONE;
}

static Py_ssize_t positions_len(Positions *self) { return self->found.used; }

static PyObject *positions_extensions(Positions *self, void *closure) {
    return self->found.extensions == NULL ? PyFrozenSet_New(NULL) : Py_NewRef(self->found.extensions);
}

static PyObject *positions_refs(Positions *self, void *closure) {
    return self->found.refs == NULL ? PyFrozenSet_New(NULL) : Py_NewRef(self->found.refs);
}

static PyGetSetDef positions_getset[] = {
    {"extensions", (getter)positions_extensions, NULL, "Every key of the data that starts with \"x-\".", NULL},
    {"refs", (getter)positions_refs, NULL, "Every str value of a `$ref` key of the data.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef positions_methods[] = {
    {"get", (PyCFunction)positions_get, METH_O,
     "get(node) -> (line << 32) | column of a dict or list of the data, or None."},
    {"member", (PyCFunction)(void (*)(void))positions_member, METH_FASTCALL,
     "member(node, key) -> (line << 32) | column of a member of a dict or list of the data, or None."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods positions_sequence = {.sq_length = (lenfunc)positions_len};

static PyTypeObject PositionsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "apps.designs.engine._jsonpos.Positions",
    .tp_basicsize = sizeof(Positions),
    .tp_dealloc = (destructor)positions_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Positions(text, data): where each dict and list of `data`, and each member, is written in `text`.",
    .tp_methods = positions_methods,
    .tp_getset = positions_getset,
    .tp_as_sequence = &positions_sequence,
    .tp_init = (initproc)positions_init,
    .tp_new = PyType_GenericNew,
};

/* ---- Walks over the loaded data (no text) ------------------------------------------------- */

typedef struct {
    PyObject **items; /* pairs: pointer (owned, may be NULL), node (borrowed) */
    Py_ssize_t used, allocated;
} Stack;

/* Takes `ptr` over only on success. */
static int stack_push(Stack *stack, PyObject *ptr, PyObject *node) {
    if (stack->used + 2 > stack->allocated) {
        Py_ssize_t count = stack->allocated ? stack->allocated * 2 : 256;
        if (grow((void **)&stack->items, count, sizeof(PyObject *)) < 0) {
            return -1;
        }
        stack->allocated = count;
    }
    stack->items[stack->used++] = ptr;
    stack->items[stack->used++] = node;
    return 0;
}

static void stack_free(Stack *stack) {
    for (Py_ssize_t i = 0; i < stack->used; i += 2) {
        Py_XDECREF(stack->items[i]);
    }
    PyMem_Free(stack->items);
}

/* str(i) for a list index (new reference): the small ones, which nearly all are, made once. */
static PyObject *index_name(Py_ssize_t i) {
    static PyObject *small[256];
    if (i >= 0 && i < 256 && small[i] != NULL) {
        return Py_NewRef(small[i]);
    }
    char digits[24];
    snprintf(digits, sizeof digits, "%zd", i);
    PyObject *name = PyUnicode_FromString(digits);
    if (name != NULL && i >= 0 && i < 256) {
        small[i] = Py_NewRef(name);
    }
    return name;
}

/* ptr + "/" + name, in one allocation. */
static PyObject *join(PyObject *ptr, PyObject *name) {
    Py_ssize_t head = PyUnicode_GET_LENGTH(ptr), tail = PyUnicode_GET_LENGTH(name);
    Py_UCS4 widest = PyUnicode_MAX_CHAR_VALUE(ptr);
    if (PyUnicode_MAX_CHAR_VALUE(name) > widest) {
        widest = PyUnicode_MAX_CHAR_VALUE(name);
    }
    PyObject *out = PyUnicode_New(head + 1 + tail, widest < '/' ? '/' : widest);
    if (out == NULL) {
        return NULL;
    }
    if (PyUnicode_CopyCharacters(out, 0, ptr, 0, head) < 0 || PyUnicode_WriteChar(out, head, '/') < 0 ||
        PyUnicode_CopyCharacters(out, head + 1, name, 0, tail) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

#define IS_CONTAINER(value) (PyDict_CheckExact(value) || PyList_CheckExact(value))

/* A pointer segment for a key: str(key), with ~ and / escaped; NULL (no error) when the key
   starts with "x-" and extensions are skipped. */
static PyObject *segment(PyObject *key, int skip_extensions) {
    PyObject *name = PyUnicode_CheckExact(key) ? Py_NewRef(key) : PyObject_Str(key);
    if (name == NULL) {
        return NULL;
    }
    if (skip_extensions && PyUnicode_GET_LENGTH(name) >= 2 && PyUnicode_READ_CHAR(name, 0) == 'x' &&
        PyUnicode_READ_CHAR(name, 1) == '-') {
        Py_DECREF(name);
        return NULL;
    }
    if (PyUnicode_FindChar(name, '~', 0, PyUnicode_GET_LENGTH(name), 1) >= 0 ||
        PyUnicode_FindChar(name, '/', 0, PyUnicode_GET_LENGTH(name), 1) >= 0) {
        static PyObject *tilde, *tilde0, *slash, *tilde1; /* made once */
        if (tilde1 == NULL && ((tilde = PyUnicode_InternFromString("~")) == NULL ||
                               (tilde0 = PyUnicode_InternFromString("~0")) == NULL ||
                               (slash = PyUnicode_InternFromString("/")) == NULL ||
                               (tilde1 = PyUnicode_InternFromString("~1")) == NULL)) {
            Py_DECREF(name);
            return NULL;
        }
        PyObject *step = PyUnicode_Replace(name, tilde, tilde0, -1);
        PyObject *escaped = step == NULL ? NULL : PyUnicode_Replace(step, slash, tilde1, -1);
        Py_XDECREF(step);
        Py_DECREF(name);
        return escaped;
    }
    return name;
}

/* Calls visit(context, pointer, dict) for every dict of `data` with its JSON pointer (under
   `prefix`), depth first in the order of a stack walk that pushes members in order; members whose
   key is in `skip` or starts with "x-" are not entered. 0, or -1 with a Python error. */
typedef int (*Visit)(void *context, PyObject *ptr, PyObject *node);

static int walk_dicts(PyObject *data, PyObject *prefix, PyObject *skip, Visit visit, void *context) {
    if (!PyAnySet_Check(skip)) {
        PyErr_SetString(PyExc_TypeError, "skip must be a set");
        return -1;
    }
    /* The lengths of the str keys to skip (below 64): a key of another length is not looked up. */
    uint64_t lengths = 0;
    int unusual = 0; /* a key to skip that is not a short str: look every key up */
    PyObject *iterator = PyObject_GetIter(skip), *skipped_key;
    if (iterator == NULL) {
        return -1;
    }
    while ((skipped_key = PyIter_Next(iterator)) != NULL) {
        if (PyUnicode_CheckExact(skipped_key) && PyUnicode_GET_LENGTH(skipped_key) < 64) {
            lengths |= (uint64_t)1 << PyUnicode_GET_LENGTH(skipped_key);
        } else {
            unusual = 1;
        }
        Py_DECREF(skipped_key);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) {
        return -1;
    }
    Stack stack = {0};
    if (stack_push(&stack, prefix, data) < 0) {
        return -1;
    }
    Py_INCREF(prefix);
    while (stack.used) {
        PyObject *node = stack.items[--stack.used];
        PyObject *ptr = stack.items[--stack.used]; /* owned now */
        int failed = 0;
        if (PyDict_CheckExact(node)) {
            failed = visit(context, ptr, node) < 0;
            Py_ssize_t index = 0;
            PyObject *key, *value;
            while (!failed && PyDict_Next(node, &index, &key, &value)) {
                if (!IS_CONTAINER(value)) {
                    continue;
                }
                int skipped = !unusual && PyUnicode_CheckExact(key) &&
                                      (PyUnicode_GET_LENGTH(key) >= 64 || !(lengths >> PyUnicode_GET_LENGTH(key) & 1))
                                  ? 0
                                  : PySet_Contains(skip, key);
                if (skipped < 0) {
                    failed = 1;
                    break;
                }
                if (skipped) {
                    continue;
                }
                PyObject *name = segment(key, 1);
                if (name == NULL) {
                    failed = PyErr_Occurred() != NULL;
                    continue;
                }
                PyObject *child = join(ptr, name);
                Py_DECREF(name);
                if (child == NULL || stack_push(&stack, child, value) < 0) {
                    Py_XDECREF(child);
                    failed = 1;
                }
            }
        } else if (PyList_CheckExact(node)) {
            for (Py_ssize_t i = 0; !failed && i < PyList_GET_SIZE(node); i++) {
                PyObject *value = PyList_GET_ITEM(node, i);
                if (IS_CONTAINER(value)) {
                    PyObject *index = index_name(i);
                    PyObject *child = index == NULL ? NULL : join(ptr, index);
                    Py_XDECREF(index);
                    if (child == NULL || stack_push(&stack, child, value) < 0) {
                        Py_XDECREF(child);
                        failed = 1;
                    }
                }
            }
        }
        Py_DECREF(ptr);
        if (failed) {
            stack_free(&stack);
            return -1;
        }
    }
    stack_free(&stack);
    return 0;
}

static int append_pair(void *context, PyObject *ptr, PyObject *node) {
    PyObject *pair = PyTuple_Pack(2, ptr, node);
    int failed = pair == NULL || PyList_Append((PyObject *)context, pair) < 0;
    Py_XDECREF(pair);
    return failed ? -1 : 0;
}

/* objects(data, prefix, skip) -> [(pointer, dict), ...]: every dict of `data` with its JSON
   pointer, in walk_dicts' order. */
static PyObject *objects(PyObject *module, PyObject *args) {
    PyObject *data, *prefix, *skip;
    if (!PyArg_ParseTuple(args, "OUO:objects", &data, &prefix, &skip)) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL || walk_dicts(data, prefix, skip, append_pair, out) < 0) {
        Py_XDECREF(out);
        return NULL;
    }
    return out;
}

/* refs(data, max_depth) -> [str, ...]: the string value of every "$ref" member of the dicts of
   `data` that lie at most max_depth containers deep (data itself is depth 0). */
static PyObject *refs(PyObject *module, PyObject *args) {
    PyObject *data;
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "On:refs", &data, &max_depth)) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    PyObject *ref_key = PyUnicode_InternFromString("$ref");
    Stack stack = {0}; /* pairs: depth (as a pointer-sized integer, not an object), node */
    if (out == NULL || ref_key == NULL) {
        Py_XDECREF(out);
        Py_XDECREF(ref_key);
        return NULL;
    }
    int failed = 0;
    if (IS_CONTAINER(data)) {
        failed = stack_push(&stack, NULL, data) < 0;
    }
    while (!failed && stack.used) {
        PyObject *node = stack.items[--stack.used];
        Py_ssize_t depth = (Py_ssize_t)(intptr_t)stack.items[--stack.used];
        stack.items[stack.used] = NULL;
        if (PyDict_CheckExact(node)) {
            PyObject *ref = PyDict_GetItemWithError(node, ref_key);
            if (ref != NULL && PyUnicode_Check(ref)) {
                failed = PyList_Append(out, ref) < 0;
            } else if (ref == NULL && PyErr_Occurred()) {
                failed = 1;
            }
            if (depth < max_depth) {
                Py_ssize_t index = 0;
                PyObject *key, *value;
                while (!failed && PyDict_Next(node, &index, &key, &value)) {
                    if (IS_CONTAINER(value)) {
                        failed = stack_push(&stack, (PyObject *)(intptr_t)(depth + 1), value) < 0;
                    }
                }
            }
        } else if (depth < max_depth) {
            for (Py_ssize_t i = 0; !failed && i < PyList_GET_SIZE(node); i++) {
                PyObject *value = PyList_GET_ITEM(node, i);
                if (IS_CONTAINER(value)) {
                    failed = stack_push(&stack, (PyObject *)(intptr_t)(depth + 1), value) < 0;
                }
            }
        }
    }
    PyMem_Free(stack.items); /* depths, not references */
    Py_DECREF(ref_key);
    if (failed) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* schema_scan(data, skip, oas31, report, hits, node_rules, object_rules, credential) -> responses:
   the security review's per-object schema checks over every dict walk_dicts meets, calling back
   only for the objects a rule reports on, in walk order; per object:
     node_rules(pointer, dict)            response headers without Access-Control-Allow-Origin, or
                                          a query or path parameter whose name credential(name)
                                          says is a credential, in a `parameters` list or map
                                          that is not itself under a `parameters` key
     report(rule_id, pointer, dict, message) with hits[i] = (rule_id, message) for i =
       0 array without maxItems, 1 string without maxLength/enum/const, 2 string without
       format/pattern/enum/const, 3 integer without both bounds (OpenAPI 3.1: exactly one of
       minimum/exclusiveMinimum and of maximum/exclusiveMaximum), 4 integer without format
     object_rules(pointer, dict)          `type: object` with a true additionalProperties
                                          (OpenAPI 3.1: unevaluatedProperties)
   Returns [(pointer + "/responses", dict)] for every object under /paths with a `responses`
   mapping. apps/security/engine/review.py has the same in Python, tested equal. */
enum {
    K_PARAMETERS,
    K_HEADERS,
    K_RESPONSES,
    K_TYPE,
    K_MAX_ITEMS,
    K_MAX_LENGTH,
    K_ENUM,
    K_CONST,
    K_FORMAT,
    K_PATTERN,
    K_MINIMUM,
    K_MAXIMUM,
    K_EXCLUSIVE_MINIMUM,
    K_EXCLUSIVE_MAXIMUM,
    K_PATHS_PREFIX,
    K_RESPONSES_SEGMENT,
    K_ADDITIONAL,
    K_UNEVALUATED,
    K_IN,
    K_NAME,
    K_QUERY,
    K_PATH,
    K_PARAMETERS_SUFFIX,
    K_ALLOW_ORIGIN,
    K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "parameters", "headers", "responses", "type",    "maxItems",         "maxLength",        "enum",    "const",
    "format",     "pattern", "minimum",   "maximum", "exclusiveMinimum", "exclusiveMaximum", "/paths/", "responses",
    "additionalProperties", "unevaluatedProperties", "in", "name", "query", "path", "/parameters",
    "Access-Control-Allow-Origin",
};
static PyObject *keys[K_COUNT];


static int is_word(PyObject *value, const char *word) {
    return PyUnicode_CheckExact(value) && PyUnicode_CompareWithASCIIString(value, word) == 0;
}

/* Which of array, string and integer a `type` value names: a string, or a list of strings. */
static void type_flags(PyObject *kind, int *array, int *string, int *integer) {
    *array = *string = *integer = 0;
    if (PyUnicode_CheckExact(kind)) {
        *array = is_word(kind, "array");
        *string = is_word(kind, "string");
        *integer = is_word(kind, "integer");
    } else if (PyList_CheckExact(kind)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kind); i++) {
            PyObject *item = PyList_GET_ITEM(kind, i);
            *array |= is_word(item, "array");
            *string |= is_word(item, "string");
            *integer |= is_word(item, "integer");
        }
    }
}

typedef struct {
    int oas31;
    PyObject *report, *hits, *node_rules, *object_rules, *credential, *responses;
} SchemaScan;

static int call(PyObject *callable, PyObject **args, size_t count) {
    PyObject *result = PyObject_Vectorcall(callable, args, count, NULL);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

static int report_hit(SchemaScan *scan, int which, PyObject *ptr, PyObject *node) {
    PyObject *hit = PyTuple_GET_ITEM(scan->hits, which);
    PyObject *args[4] = {PyTuple_GET_ITEM(hit, 0), ptr, node, PyTuple_GET_ITEM(hit, 1)};
    return call(scan->report, args, 4);
}

/* Whether node_rules would report on `node`: a query or path parameter whose name
   credential(name) says is a credential, in a `parameters` list or map that is not itself a
   `parameters` value; or response headers without Access-Control-Allow-Origin. 1, 0 or -1. */
static int node_rules_apply(SchemaScan *scan, PyObject *ptr, PyObject *node, int has_parameters, int has_headers) {
    if (has_headers) {
        PyObject *headers = PyDict_GetItemWithError(node, keys[K_HEADERS]);
        if (headers == NULL) {
            return PyErr_Occurred() ? -1 : 0;
        }
        if (PyDict_CheckExact(headers)) {
            int has = PyDict_Contains(headers, keys[K_ALLOW_ORIGIN]);
            if (has <= 0) {
                return has < 0 ? -1 : 1;
            }
        }
    }
    if (!has_parameters) {
        return 0;
    }
    int nested = PyUnicode_Tailmatch(ptr, keys[K_PARAMETERS_SUFFIX], 0, PY_SSIZE_T_MAX, 1);
    PyObject *params = nested ? NULL : PyDict_GetItemWithError(node, keys[K_PARAMETERS]);
    if (params == NULL) {
        return nested < 0 || PyErr_Occurred() ? -1 : 0;
    }
    PyObject *entries = PyDict_Check(params) ? PyDict_Values(params) : PyList_Check(params) ? Py_NewRef(params) : NULL;
    if (entries == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    int found = 0;
    for (Py_ssize_t i = 0; found == 0 && i < PyList_GET_SIZE(entries); i++) {
        PyObject *param = PyList_GET_ITEM(entries, i);
        if (!PyDict_Check(param)) {
            continue;
        }
        PyObject *where = PyDict_GetItemWithError(param, keys[K_IN]);
        PyObject *name = where == NULL ? NULL : PyDict_GetItemWithError(param, keys[K_NAME]);
        if (PyErr_Occurred()) {
            found = -1;
            break;
        }
        if (where == NULL || name == NULL || !PyUnicode_Check(where) || !PyUnicode_Check(name)) {
            continue;
        }
        Py_ssize_t query = PyUnicode_Find(where, keys[K_QUERY], 0, PY_SSIZE_T_MAX, 1);
        Py_ssize_t path = query == -1 ? PyUnicode_Find(where, keys[K_PATH], 0, PY_SSIZE_T_MAX, 1) : query;
        if (query == -2 || path == -2) {
            found = -1;
        } else if (path >= 0) {
            PyObject *verdict = PyObject_CallOneArg(scan->credential, name);
            found = verdict == NULL ? -1 : PyObject_IsTrue(verdict);
            Py_XDECREF(verdict);
        }
    }
    Py_DECREF(entries);
    return found;
}

static int schema_visit(void *context, PyObject *ptr, PyObject *node) {
    SchemaScan *scan = context;
    int has[K_PATHS_PREFIX] = {0};
    for (int k = K_PARAMETERS; k <= K_TYPE; k++) {
        if ((has[k] = PyDict_Contains(node, keys[k])) < 0) {
            return -1;
        }
    }
    if (has[K_PARAMETERS] || has[K_HEADERS]) {
        int apply = node_rules_apply(scan, ptr, node, has[K_PARAMETERS], has[K_HEADERS]);
        PyObject *args[2] = {ptr, node};
        if (apply < 0 || (apply && call(scan->node_rules, args, 2) < 0)) {
            return -1;
        }
    }
    if (has[K_RESPONSES]) {
        PyObject *found = PyDict_GetItemWithError(node, keys[K_RESPONSES]);
        Py_ssize_t under_paths = found == NULL ? -1 : PyUnicode_Tailmatch(ptr, keys[K_PATHS_PREFIX], 0, PY_SSIZE_T_MAX, -1);
        if (under_paths < 0) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_RuntimeError, "the object changed during the walk");
            }
            return -1;
        }
        if (PyDict_CheckExact(found) && under_paths) {
            PyObject *where = join(ptr, keys[K_RESPONSES_SEGMENT]);
            PyObject *entry = where == NULL ? NULL : PyTuple_Pack(2, where, found);
            Py_XDECREF(where);
            int appended = entry != NULL && PyList_Append(scan->responses, entry) == 0;
            Py_XDECREF(entry);
            if (!appended) {
                return -1;
            }
        }
    }
    PyObject *kind = has[K_TYPE] ? PyDict_GetItemWithError(node, keys[K_TYPE]) : NULL;
    if (kind == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (kind == Py_None) {
        return 0;
    }
    Py_INCREF(kind); /* a callback could change the dict; keep what was read */
    int array, string, integer;
    type_flags(kind, &array, &string, &integer);
    for (int k = K_MAX_ITEMS; (array || string || integer) && k < K_PATHS_PREFIX; k++) {
        if ((has[k] = PyDict_Contains(node, keys[k])) < 0) {
            Py_DECREF(kind);
            return -1;
        }
    }
    int no_choice = !has[K_ENUM] && !has[K_CONST];
    int bounded = scan->oas31 ? (has[K_MINIMUM] != has[K_EXCLUSIVE_MINIMUM]) && (has[K_MAXIMUM] != has[K_EXCLUSIVE_MAXIMUM])
                              : has[K_MINIMUM] && has[K_MAXIMUM];
    int failed = (array && !has[K_MAX_ITEMS] && report_hit(scan, 0, ptr, node) < 0) ||
                 (string && !has[K_MAX_LENGTH] && no_choice && report_hit(scan, 1, ptr, node) < 0) ||
                 (string && !has[K_FORMAT] && !has[K_PATTERN] && no_choice && report_hit(scan, 2, ptr, node) < 0) ||
                 (integer && !bounded && report_hit(scan, 3, ptr, node) < 0) ||
                 (integer && !has[K_FORMAT] && report_hit(scan, 4, ptr, node) < 0);
    if (!failed && PyUnicode_Check(kind) && PyUnicode_CompareWithASCIIString(kind, "object") == 0) {
        PyObject *extra = PyDict_GetItemWithError(node, keys[scan->oas31 ? K_UNEVALUATED : K_ADDITIONAL]);
        int open = extra == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_IsTrue(extra);
        PyObject *args[2] = {ptr, node};
        failed = open < 0 || (open && call(scan->object_rules, args, 2) < 0);
    }
    Py_DECREF(kind);
    return failed ? -1 : 0;
}

static PyObject *schema_scan(PyObject *module, PyObject *args) {
    PyObject *data, *skip;
    SchemaScan scan;
    if (!PyArg_ParseTuple(args, "OOpOO!OOO:schema_scan", &data, &skip, &scan.oas31, &scan.report, &PyTuple_Type,
                          &scan.hits, &scan.node_rules, &scan.object_rules, &scan.credential)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(scan.hits) != 5) {
        PyErr_SetString(PyExc_ValueError, "hits holds five (rule_id, message) pairs");
        return NULL;
    }
    for (int i = 0; i < 5; i++) {
        PyObject *hit = PyTuple_GET_ITEM(scan.hits, i);
        if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 2) {
            PyErr_SetString(PyExc_ValueError, "hits holds five (rule_id, message) pairs");
            return NULL;
        }
    }
    for (int k = 0; k < K_COUNT; k++) {
        if (keys[k] == NULL && (keys[k] = PyUnicode_InternFromString(key_names[k])) == NULL) {
            return NULL;
        }
    }
    PyObject *prefix = PyUnicode_FromString("");
    scan.responses = PyList_New(0);
    if (prefix == NULL || scan.responses == NULL || walk_dicts(data, prefix, skip, schema_visit, &scan) < 0) {
        Py_XDECREF(prefix);
        Py_XDECREF(scan.responses);
        return NULL;
    }
    Py_DECREF(prefix);
    return scan.responses;
}

/* utf8_length(text) -> the length of text.encode("utf-8") without building it (surrogates,
   which that would refuse, count 3 bytes). */
static PyObject *utf8_length(PyObject *module, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "utf8_length takes a str");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), bytes = length;
    if (PyUnicode_IS_ASCII(text)) {
        return PyLong_FromSsize_t(bytes);
    }
    /* The extra bytes are counted in blocks small enough for a counter as narrow as the
       characters, which the compiler turns into vector code. */
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: {
        const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(text);
        for (Py_ssize_t start = 0; start < length; start += 255) {
            Py_ssize_t end = start + 255 < length ? start + 255 : length;
            uint8_t extra = 0;
            for (Py_ssize_t i = start; i < end; i++) {
                extra += chars[i] >= 0x80;
            }
            bytes += extra;
        }
        break;
    }
    case PyUnicode_2BYTE_KIND: {
        const Py_UCS2 *chars = PyUnicode_2BYTE_DATA(text);
        for (Py_ssize_t start = 0; start < length; start += 32767) {
            Py_ssize_t end = start + 32767 < length ? start + 32767 : length;
            uint16_t extra = 0;
            for (Py_ssize_t i = start; i < end; i++) {
                extra += (uint16_t)((chars[i] >= 0x80) + (chars[i] >= 0x800));
            }
            bytes += extra;
        }
        break;
    }
    default: {
        const Py_UCS4 *chars = PyUnicode_4BYTE_DATA(text);
        for (Py_ssize_t start = 0; start < length; start += 1 << 20) {
            Py_ssize_t end = start + (1 << 20) < length ? start + (1 << 20) : length;
            uint32_t extra = 0;
            for (Py_ssize_t i = start; i < end; i++) {
                extra += (uint32_t)((chars[i] >= 0x80) + (chars[i] >= 0x800) + (chars[i] >= 0x10000));
            }
            bytes += extra;
        }
        break;
    }
    }
    return PyLong_FromSsize_t(bytes);
}

/* sha256_hex24(prefix, key) -> hashlib.sha256((prefix + key).encode()).hexdigest()[:24], through
   OpenSSL's one-shot digest: the fingerprint of each of a hundred thousand findings without a
   hash object apiece. */
static PyObject *hex24(PyObject *prefix, PyObject *key) {
    Py_ssize_t head_size, tail_size;
    const char *head = PyUnicode_AsUTF8AndSize(prefix, &head_size);
    const char *tail = head == NULL ? NULL : PyUnicode_AsUTF8AndSize(key, &tail_size);
    if (tail == NULL) {
        return NULL;
    }
    char stack[512];
    char *joined = head_size + tail_size <= (Py_ssize_t)sizeof stack ? stack : PyMem_Malloc(head_size + tail_size);
    if (joined == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(joined, head, head_size);
    memcpy(joined + head_size, tail, tail_size);
    /* One context and one fetched SHA-256, reused: the GIL serialises callers. */
    static EVP_MD *sha256 = NULL;
    static EVP_MD_CTX *context = NULL;
    if (sha256 == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        context = EVP_MD_CTX_new();
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    int ok = sha256 != NULL && context != NULL && EVP_DigestInit_ex(context, sha256, NULL) &&
             EVP_DigestUpdate(context, joined, head_size + tail_size) &&
             EVP_DigestFinal_ex(context, digest, &digest_size);
    if (joined != stack) {
        PyMem_Free(joined);
    }
    if (!ok || digest_size < 12) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute SHA-256");
        return NULL;
    }
    static const char hex[] = "0123456789abcdef";
    char out[24];
    for (int i = 0; i < 12; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    return PyUnicode_FromStringAndSize(out, 24);
}

static PyObject *sha256_hex24(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "sha256_hex24(prefix, key) takes two str");
        return NULL;
    }
    return hex24(args[0], args[1]);
}

/* ---- Building the model's records --------------------------------------------------------- */

/* How to fill an instance of a dataclass declared with slots=True and no __post_init__ (whose
   generated __init__ only stores its arguments, in field order): the member of each slot. An
   instance is allocated and its slots set directly, which is what __init__ would do, for a
   tenth of the cost of running it. */
#define MAX_FIELDS 16

typedef struct {
    PyTypeObject *type;
    Py_ssize_t count;
    PyMemberDef *members[MAX_FIELDS];
} Record;

/* Fills `record` from cls.__slots__; -1 with a Python error when cls is not such a class. */
static int record_init(Record *record, PyObject *cls) {
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "a record type must be a class");
        return -1;
    }
    PyObject *post_init = PyObject_GetAttrString(cls, "__post_init__");
    if (post_init != NULL) {
        Py_DECREF(post_init);
        PyErr_Format(PyExc_TypeError, "%s has a __post_init__, which building it directly would skip",
                     ((PyTypeObject *)cls)->tp_name);
        return -1;
    }
    PyErr_Clear();
    PyObject *slots = PyObject_GetAttrString(cls, "__slots__");
    if (slots == NULL) {
        PyErr_Format(PyExc_TypeError, "%s has no __slots__ (declare it with slots=True)", ((PyTypeObject *)cls)->tp_name);
        return -1;
    }
    PyObject *names = PySequence_Tuple(slots);
    Py_DECREF(slots);
    if (names == NULL) {
        return -1;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (count > MAX_FIELDS) {
        Py_DECREF(names);
        PyErr_SetString(PyExc_TypeError, "a record type has too many fields");
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *descriptor = PyObject_GetAttr(cls, PyTuple_GET_ITEM(names, i));
        if (descriptor == NULL) {
            Py_DECREF(names);
            return -1;
        }
        int is_member = Py_IS_TYPE(descriptor, &PyMemberDescr_Type) &&
                        ((PyDescrObject *)descriptor)->d_type == (PyTypeObject *)cls;
        record->members[i] = is_member ? ((PyMemberDescrObject *)descriptor)->d_member : NULL;
        Py_DECREF(descriptor);
        if (!is_member || record->members[i]->type != Py_T_OBJECT_EX) {
            Py_DECREF(names);
            PyErr_Format(PyExc_TypeError, "%s.__slots__ must name its own plain slots", ((PyTypeObject *)cls)->tp_name);
            return -1;
        }
    }
    Py_DECREF(names);
    record->type = (PyTypeObject *)Py_NewRef(cls);
    record->count = count;
    return 0;
}

/* A new instance with its slots set to `values` (record->count of them, borrowed). */
static PyObject *record_make(Record *record, PyObject *const *values) {
    PyObject *made = record->type->tp_alloc(record->type, 0);
    if (made == NULL) {
        return NULL;
    }
    /* The slots are empty (NULL) after allocation and hold objects (record_init checked):
       storing into them is what PyMember_SetOne does, less its checks. */
    for (Py_ssize_t i = 0; i < record->count; i++) {
        *(PyObject **)((char *)made + record->members[i]->offset) = Py_NewRef(values[i]);
    }
    return made;
}

/* Sources(positions, document, line_offset, source_type, fallback): called with (node, pointer),
   the SourceRef(document, line + line_offset, column, pointer) of a dict or list of the data
   known to `positions`; for anything else, fallback(pointer). */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Positions *positions;
    PyObject *document, *fallback;
    long line_offset;
    Record source;
} Sources;

static void sources_dealloc(Sources *self) {
    Py_XDECREF(self->positions);
    Py_XDECREF(self->document);
    Py_XDECREF(self->fallback);
    Py_XDECREF(self->source.type);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *sources_locate(Sources *self, PyObject *node, PyObject *ptr) {
    const Entry *entry = positions_find(self->positions, node);
    if (entry == NULL) {
        return PyObject_CallOneArg(self->fallback, ptr);
    }
    long long packed = entry->where;
    PyObject *line = PyLong_FromLongLong((packed >> 32) + self->line_offset);
    PyObject *column = line == NULL ? NULL : PyLong_FromLongLong(packed & 0xFFFFFFFFLL);
    if (column == NULL) {
        Py_XDECREF(line);
        return NULL;
    }
    PyObject *values[4] = {self->document, line, column, ptr};
    PyObject *made = record_make(&self->source, values);
    Py_DECREF(line);
    Py_DECREF(column);
    return made;
}

static PyObject *sources_call(Sources *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Sources is called with (node, pointer)");
        return NULL;
    }
    return sources_locate(self, args[0], args[1]);
}

static int sources_init(Sources *self, PyObject *args, PyObject *kwargs) {
    PyObject *positions, *document, *source_type, *fallback;
    long line_offset;
    static char *names[] = {"positions", "document", "line_offset", "source_type", "fallback", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!UlOO:Sources", names, &PositionsType, &positions, &document,
                                     &line_offset, &source_type, &fallback)) {
        return -1;
    }
    if (self->positions != NULL) {
        PyErr_SetString(PyExc_TypeError, "Sources is built once");
        return -1;
    }
    if (record_init(&self->source, source_type) < 0) {
        return -1;
    }
    if (self->source.count != 4) {
        Py_CLEAR(self->source.type);
        PyErr_SetString(PyExc_TypeError, "source_type must have the fields document, line, column, pointer");
        return -1;
    }
    self->positions = (Positions *)Py_NewRef(positions);
    self->document = Py_NewRef(document);
    self->fallback = Py_NewRef(fallback);
    self->line_offset = line_offset;
    self->vectorcall = (vectorcallfunc)sources_call;
    return 0;
}

static PyTypeObject SourcesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "apps.designs.engine._jsonpos.Sources",
    .tp_basicsize = sizeof(Sources),
    .tp_dealloc = (destructor)sources_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Sources(positions, document, line_offset, source_type, fallback)(node, pointer) -> a SourceRef.",
    .tp_vectorcall_offset = offsetof(Sources, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_init = (initproc)sources_init,
    .tp_new = PyType_GenericNew,
};

/* Reporter(sources, findings, finding_type, analyzer, facts, seen): called with (rule_id, pointer,
   node, message), appends the finding a rule reports at a dict or list of the document:
   Finding(analyzer, rule_id, severity, title, message + " " + why, fix, (source,),
   fingerprint, references, category, cwe, None), where facts[rule_id] = (severity, title, why,
   fix, references, category, cwe, fingerprint prefix) and the fingerprint is
   sha256_hex24(prefix, pointer). With a set as `seen`, a (rule_id, pointer) already in it is
   not reported again; with None every call reports. What the security review's `hit` does in
   Python, for the rules that report by the ten thousand. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Sources *sources;
    PyObject *findings, *analyzer, *facts, *seen, *messages;
    /* The last place reported, with its locations (SourceRef): rules report several findings
       at one place in a row (no 429, no 401, no 500 at a responses object; no maxLength and no
       format at a string), which then share them. Held, so that no other object can take their
       addresses. */
    PyObject *last_node, *last_ptr, *last_locations;
    Record finding;
} Reporter;

static void reporter_dealloc(Reporter *self) {
    Py_XDECREF(self->sources);
    Py_XDECREF(self->findings);
    Py_XDECREF(self->analyzer);
    Py_XDECREF(self->facts);
    Py_XDECREF(self->seen);
    Py_XDECREF(self->messages);
    Py_XDECREF(self->last_node);
    Py_XDECREF(self->last_ptr);
    Py_XDECREF(self->last_locations);
    Py_XDECREF(self->finding.type);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

enum { F_SEVERITY, F_TITLE, F_WHY, F_FIX, F_REFERENCES, F_CATEGORY, F_CWE, F_PREFIX, F_COUNT };

static PyObject *reporter_call(Reporter *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 4 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Reporter is called with (rule_id, pointer, node, message)");
        return NULL;
    }
    PyObject *rule_id = args[0], *ptr = args[1], *node = args[2], *message = args[3];
    if (!PyUnicode_Check(ptr) || !PyUnicode_Check(message)) {
        PyErr_SetString(PyExc_TypeError, "the pointer and the message must be str");
        return NULL;
    }
    if (self->seen != Py_None) {
        PyObject *key = PyTuple_Pack(2, rule_id, ptr);
        if (key == NULL) {
            return NULL;
        }
        int known = PySet_Contains(self->seen, key);
        if (known != 0) {
            Py_DECREF(key);
            return known < 0 ? NULL : Py_NewRef(Py_None);
        }
        int added = PySet_Add(self->seen, key);
        Py_DECREF(key);
        if (added < 0) {
            return NULL;
        }
    }
    PyObject *facts = PyDict_GetItemWithError(self->facts, rule_id); /* borrowed */
    if (facts == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetObject(PyExc_KeyError, rule_id);
        }
        return NULL;
    }
    if (!PyTuple_Check(facts) || PyTuple_GET_SIZE(facts) != F_COUNT) {
        PyErr_SetString(PyExc_TypeError, "facts must map rule ids to 8-tuples");
        return NULL;
    }
    /* The whole message, shared by every finding with the same rule and message. */
    PyObject *per_rule = PyDict_GetItemWithError(self->messages, rule_id);
    if (per_rule == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        per_rule = PyDict_New();
        if (per_rule == NULL || PyDict_SetItem(self->messages, rule_id, per_rule) < 0) {
            Py_XDECREF(per_rule);
            return NULL;
        }
        Py_DECREF(per_rule); /* the dict holds it */
    }
    PyObject *whole = PyDict_GetItemWithError(per_rule, message);
    if (whole == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        whole = PyUnicode_FromFormat("%U %U", message, PyTuple_GET_ITEM(facts, F_WHY));
        if (whole == NULL || PyDict_SetItem(per_rule, message, whole) < 0) {
            Py_XDECREF(whole);
            return NULL;
        }
        Py_DECREF(whole); /* the dict holds it */
    }
    PyObject *locations;
    if (node == self->last_node && ptr == self->last_ptr) {
        locations = Py_NewRef(self->last_locations);
    } else {
        PyObject *source = sources_locate(self->sources, node, ptr);
        if (source == NULL) {
            return NULL;
        }
        locations = PyTuple_Pack(1, source);
        Py_DECREF(source);
        if (locations == NULL) {
            return NULL;
        }
        Py_XSETREF(self->last_node, Py_NewRef(node));
        Py_XSETREF(self->last_ptr, Py_NewRef(ptr));
        Py_XSETREF(self->last_locations, Py_NewRef(locations));
    }
    PyObject *fingerprint = hex24(PyTuple_GET_ITEM(facts, F_PREFIX), ptr);
    if (fingerprint == NULL) {
        Py_DECREF(locations);
        return NULL;
    }
    PyObject *values[12] = {
        self->analyzer, rule_id, PyTuple_GET_ITEM(facts, F_SEVERITY), PyTuple_GET_ITEM(facts, F_TITLE), whole,
        PyTuple_GET_ITEM(facts, F_FIX), locations, fingerprint, PyTuple_GET_ITEM(facts, F_REFERENCES),
        PyTuple_GET_ITEM(facts, F_CATEGORY), PyTuple_GET_ITEM(facts, F_CWE), Py_None,
    };
    PyObject *finding = record_make(&self->finding, values);
    Py_DECREF(locations);
    Py_DECREF(fingerprint);
    if (finding == NULL) {
        return NULL;
    }
    int appended = PyList_Append(self->findings, finding);
    Py_DECREF(finding);
    return appended < 0 ? NULL : Py_NewRef(Py_None);
}

static int reporter_init(Reporter *self, PyObject *args, PyObject *kwargs) {
    PyObject *sources, *findings, *finding_type, *analyzer, *facts, *seen;
    static char *names[] = {"sources", "findings", "finding_type", "analyzer", "facts", "seen", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OUO!O:Reporter", names, &SourcesType, &sources, &PyList_Type,
                                     &findings, &finding_type, &analyzer, &PyDict_Type, &facts, &seen)) {
        return -1;
    }
    if (self->sources != NULL) {
        PyErr_SetString(PyExc_TypeError, "Reporter is built once");
        return -1;
    }
    if (seen != Py_None && !PySet_Check(seen)) {
        PyErr_SetString(PyExc_TypeError, "seen must be a set or None");
        return -1;
    }
    if (record_init(&self->finding, finding_type) < 0) {
        return -1;
    }
    if (self->finding.count != 12) {
        Py_CLEAR(self->finding.type);
        PyErr_SetString(PyExc_TypeError, "finding_type must have the twelve fields of a Finding");
        return -1;
    }
    self->messages = PyDict_New();
    if (self->messages == NULL) {
        return -1;
    }
    self->sources = (Sources *)Py_NewRef(sources);
    self->findings = Py_NewRef(findings);
    self->analyzer = Py_NewRef(analyzer);
    self->facts = Py_NewRef(facts);
    self->seen = Py_NewRef(seen);
    self->vectorcall = (vectorcallfunc)reporter_call;
    return 0;
}

static PyTypeObject ReporterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "apps.designs.engine._jsonpos.Reporter",
    .tp_basicsize = sizeof(Reporter),
    .tp_dealloc = (destructor)reporter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Reporter(sources, findings, finding_type, analyzer, facts, seen)(rule_id, pointer, node, message).",
    .tp_vectorcall_offset = offsetof(Reporter, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_init = (initproc)reporter_init,
    .tp_new = PyType_GenericNew,
};

#include "_jsonpos_openapi.h"
#include "_jsonpos_security.h"

static PyMethodDef module_methods[] = {
    {"schema_scan", schema_scan, METH_VARARGS,
     "schema_scan(data, skip, oas31, report, hits, node_rules, object_rules, credential) -> responses: the security "
     "review's per-object schema checks."},
    {"sha256_hex24", (PyCFunction)(void (*)(void))sha256_hex24, METH_FASTCALL,
     "sha256_hex24(prefix, key) -> the first 24 hex digits of SHA-256 of (prefix + key) in UTF-8."},
    {"utf8_length", utf8_length, METH_O, "utf8_length(text) -> len(text.encode('utf-8')), without encoding."},
    {"objects", objects, METH_VARARGS,
     "objects(data, prefix, skip) -> [(pointer, dict), ...] for every dict of data, depth first."},
    {"refs", refs, METH_VARARGS, "refs(data, max_depth) -> every $ref string in the dicts of data down to max_depth."},
    {"operation_checks", operation_checks, METH_VARARGS,
     "operation_checks(paths, root_security, hit, rules, unauthenticated, parameter_facts, resolve, name_facts, "
     "is_webhook, rest): the security review's walk of every operation."},
    {"parameter_flags", parameter_flags, METH_VARARGS,
     "parameter_flags(parameters, cache, resolve, name_facts, is_get) -> [(index, facts), ...]: an operation's "
     "parameters worth reporting."},
    {"body_candidates", body_candidates, METH_VARARGS,
     "body_candidates(paths, resolve, name_facts, privileged, url_formats, url_names, secret, leaky) -> "
     "[(path, method, operation), ...]: the operations the security review's body rules can report on."},
    {"responses_rules", responses_rules, METH_VARARGS,
     "responses_rules(responses_objects, resolve, hit, once, rules, rate_limit_sets): the security review's checks "
     "of every responses object."},
    {"endpoints", endpoints, METH_VARARGS,
     "endpoints(paths, root_security, base_path, default_security, resolve, node_ref, classes, parameter_shapes, "
     "body_shapes, constraint_keys, component_name, pagination, reached, targets) -> [Endpoint, ...]: the OpenAPI "
     "parser's walk."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonpos", "Where each part of a loaded JSON document is written, and fast walks over it.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__jsonpos(void) {
    if (PyType_Ready(&PositionsType) < 0 || PyType_Ready(&SourcesType) < 0 || PyType_Ready(&ReporterType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Positions", (PyObject *)&PositionsType) < 0 ||
        PyModule_AddObjectRef(m, "Sources", (PyObject *)&SourcesType) < 0 ||
        PyModule_AddObjectRef(m, "Reporter", (PyObject *)&ReporterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
