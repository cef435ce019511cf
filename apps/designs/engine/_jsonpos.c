/* Where each part of a loaded JSON document is written: the one compiled part of the workbench.
   No rules of any analyzer live here; it only answers "on which line and column is this?".

   Positions(text, data) walks the JSON text and the data that json.loads made of it side by
   side, in document order, and remembers for every dict and list in `data` where it is written
   (the position a JSON pointer to it names: its key when it is an object member, itself when
   it is an array item or the root) and where each of its members is. Positions are packed as
   (line << 32) | column, 1-based, columns counting characters.

     positions.get(node)          a dict or list of `data`; None for anything else
     positions.member(node, key)  the member `key` (a str of a dict, an int of a list); None if absent
     positions.extensions         a frozenset of every key starting with "x-", met on the way
     positions.refs               a frozenset of every str value of a `$ref` key, likewise

   The text is only scanned, never decoded: keys are compared with the loaded keys (escapes read
   as json.loads reads them) and each scalar's kind with the loaded one; any disagreement (a
   duplicate key, which json.loads folds into one, or a text that is not the one `data` came
   from) raises ValueError, so that the caller can walk the text instead. So does nesting past
   MAX_DEPTH (the scan recurses once per level) and a text longer than MAX_TEXT (positions must
   fit their packing).

   Hostile callers: the table holds a reference to every container it records, so no address it
   keys on can be reused while it exists. Data changed after the scan cannot make it read outside
   what it recorded: a list's members are answered only below the length it had, a dict's only
   while it has the size it had (None otherwise), and a lookup runs no Python code. No state is
   shared between tables or kept at module level. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* json.loads stops near 1,000 levels by default; data built another way can go deeper. Past
   this the scan refuses, and the caller walks the text. */
#define MAX_DEPTH 2000
/* Lines and columns are packed into 32 bits each. */
#define MAX_TEXT ((Py_ssize_t)0x7FFFFFFE)

/* What the scan found: per container the container (a strong reference), its position, where
   its members' positions start in `members`, and how many it had. */
typedef struct {
    PyObject *node; /* NULL: an empty slot of the table */
    long long where;
    Py_ssize_t first;
    Py_ssize_t count;
} Entry;

typedef struct {
    Entry *entries;
    Py_ssize_t used, allocated;
    long long *members;
    Py_ssize_t members_used, members_allocated;
    PyObject *extensions; /* a set: every key that starts with "x-" (OpenAPI's extensions) */
    PyObject *refs;       /* a set: every str value of a `$ref` key */
} Found;

static void found_free(Found *found) {
    for (Py_ssize_t i = 0; i < found->used; i++) {
        Py_XDECREF(found->entries[i].node);
    }
    Py_CLEAR(found->extensions);
    Py_CLEAR(found->refs);
    PyMem_Free(found->entries);
    PyMem_Free(found->members);
    found->entries = NULL;
    found->members = NULL;
    found->used = found->allocated = found->members_used = found->members_allocated = 0;
}

static int grow(void **array, Py_ssize_t count, size_t item) {
    if ((size_t)count > PY_SSIZE_T_MAX / item) {
        PyErr_NoMemory();
        return -1;
    }
    void *bigger = PyMem_Realloc(*array, (size_t)count * item);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = bigger;
    return 0;
}

/* Room for the containers and members a text of `length` characters is likely to hold, asked
   for once: a JSON description writes a container in every 74 to 143 bytes and a member in every
   26 to 50 (Stripe's, GitHub's, Microsoft Graph's), so a container per 32 characters and a member
   per 16 seldom need more, and the pages of what goes unused are never touched. Growing by
   doubling instead copied each array into a new one about ten times over (Stripe's description:
   about 6 MiB written, some 1,500 page faults of a fresh process, for 2 MiB kept). A text denser
   than that still grows as before; what is asked for at once stays below RESERVE_MAX bytes. */
#define RESERVE_MAX ((Py_ssize_t)1 << 27)
static int found_reserve(Found *found, Py_ssize_t length) {
    Py_ssize_t entries = Py_MIN(length / 32 + 1024, RESERVE_MAX / (Py_ssize_t)sizeof(Entry));
    Py_ssize_t members = Py_MIN(length / 16 + 4096, RESERVE_MAX / (Py_ssize_t)sizeof(long long));
    if (grow((void **)&found->entries, entries, sizeof(Entry)) < 0 ||
        grow((void **)&found->members, members, sizeof(long long)) < 0) {
        return -1;
    }
    found->allocated = entries;
    found->members_allocated = members;
    return 0;
}

/* Adds a container with `size` members; returns the index of its first member slot, -1 on error. */
static Py_ssize_t found_add(Found *found, PyObject *node, long long where, Py_ssize_t size) {
    if (found->used == found->allocated) {
        Py_ssize_t count = found->allocated ? found->allocated * 2 : 1024;
        if (grow((void **)&found->entries, count, sizeof(Entry)) < 0) {
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
    found->entries[found->used++] = (Entry){Py_NewRef(node), where, first, size};
    found->members_used += size;
    return first;
}

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
    PyObject *data;
    /* The containers in document order, each with what a lookup answers. */
    Entry *entries;
    /* Open addressing over `entries`: a slot holds an entry's index plus one (0: empty), four
       bytes rather than the entry itself, so that the table a lookup meets in no order is a
       quarter of a megabyte for Stripe's description rather than four. */
    uint32_t *table;
    Py_ssize_t mask;
    long long *members;
    Py_ssize_t members_used;
    Py_ssize_t used;
    PyObject *extensions, *refs;
} Positions;

static inline Py_ssize_t slot_of(const void *key, Py_ssize_t mask) {
    size_t h = (size_t)key >> 4;
    h *= (size_t)0x9E3779B97F4A7C15ULL;
    return (Py_ssize_t)((h >> 20) & (size_t)mask);
}

static int positions_traverse(Positions *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->data);
    Py_VISIT(self->extensions);
    Py_VISIT(self->refs);
    if (self->entries != NULL) {
        for (Py_ssize_t i = 0; i < self->used; i++) {
            Py_VISIT(self->entries[i].node);
        }
    }
    return 0;
}

static int positions_clear(Positions *self) {
    Py_CLEAR(self->data);
    Py_CLEAR(self->extensions);
    Py_CLEAR(self->refs);
    Entry *entries = self->entries;
    Py_ssize_t used = self->used;
    PyMem_Free(self->table);
    self->table = NULL; /* no lookup meets a half-cleared table */
    self->entries = NULL;
    self->mask = 0;
    self->used = 0;
    if (entries != NULL) {
        for (Py_ssize_t i = 0; i < used; i++) {
            Py_CLEAR(entries[i].node);
        }
        PyMem_Free(entries);
    }
    PyMem_Free(self->members);
    self->members = NULL;
    self->members_used = 0;
    return 0;
}

static void positions_dealloc(Positions *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    positions_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
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
    if (PyUnicode_GET_LENGTH(text) > MAX_TEXT) {
        PyErr_SetString(PyExc_ValueError, "the text is too long for the scanner");
        return -1;
    }
    Found found = {0};
    found.extensions = PySet_New(NULL);
    found.refs = found.extensions == NULL ? NULL : PySet_New(NULL);
    if (found.refs == NULL || found_reserve(&found, PyUnicode_GET_LENGTH(text)) < 0) {
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
    /* At most two slots in three taken. `used` is below 2**31 (a container takes at least two of
       the text's characters, and the text is at most MAX_TEXT long), so an index fits four bytes. */
    Py_ssize_t size = 8;
    while (size < found.used + found.used / 2 + 1) {
        size *= 2;
    }
    uint32_t *table = PyMem_Calloc((size_t)size, sizeof(uint32_t));
    PyObject *extensions = table == NULL ? NULL : PyFrozenSet_New(found.extensions);
    PyObject *refs = extensions == NULL ? NULL : PyFrozenSet_New(found.refs);
    if (refs == NULL) {
        if (table == NULL) {
            PyErr_NoMemory();
        }
        Py_XDECREF(extensions);
        PyMem_Free(table);
        found_free(&found);
        return -1;
    }
    for (Py_ssize_t i = 0; i < found.used; i++) {
        Py_ssize_t slot = slot_of(found.entries[i].node, size - 1);
        while (table[slot] != 0) {
            slot = (slot + 1) & (size - 1);
        }
        table[slot] = (uint32_t)(i + 1);
    }
    self->data = Py_NewRef(data);
    self->entries = found.entries; /* with the references it holds */
    self->table = table;
    self->mask = size - 1;
    self->used = found.used;
    self->members = found.members;
    self->members_used = found.members_used;
    self->extensions = extensions;
    self->refs = refs;
    found.used = 0; /* the references now belong to the table */
    found.entries = NULL;
    found.members = NULL;
    found_free(&found);
    return 0;
}

/* The entry of a container of the data, or NULL. */
static const Entry *positions_find(Positions *self, PyObject *node) {
    if (self->table == NULL) {
        return NULL;
    }
    Py_ssize_t slot = slot_of(node, self->mask);
    uint32_t index;
    while ((index = self->table[slot]) != 0) {
        if ((Py_ssize_t)index <= self->used && self->entries[index - 1].node == node) {
            return &self->entries[index - 1];
        }
        slot = (slot + 1) & self->mask;
    }
    return NULL;
}

/* The position of member i of an entry, checked against what the scan recorded. */
static PyObject *member_at(Positions *self, const Entry *entry, Py_ssize_t i) {
    if (i < 0 || i >= entry->count || entry->first + i >= self->members_used) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(self->members[entry->first + i]);
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
    if (PyList_CheckExact(node)) {
        if (!PyLong_CheckExact(wanted)) {
            Py_RETURN_NONE;
        }
        Py_ssize_t i = PyLong_AsSsize_t(wanted);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        return member_at(self, entry, i);
    }
    /* A dict: members were recorded in its iteration order, which holds only while it keeps its
       size (a dict changed since cannot be answered). Keys and `wanted` are compared as exact
       str, which runs no Python code: the dict cannot change during the loop. */
    if (!PyUnicode_CheckExact(wanted) || !PyDict_CheckExact(node) || PyDict_GET_SIZE(node) != entry->count) {
        Py_RETURN_NONE;
    }
    Py_ssize_t position = 0, i = 0;
    PyObject *key, *value;
    while (i < entry->count && PyDict_Next(node, &position, &key, &value)) {
        if (key == wanted || (PyUnicode_CheckExact(key) && PyUnicode_Compare(key, wanted) == 0)) {
            return member_at(self, entry, i);
        }
        i++;
    }
    Py_RETURN_NONE;
}

static Py_ssize_t positions_len(Positions *self) { return self->used; }

static PyObject *positions_extensions(Positions *self, void *closure) {
    (void)closure;
    return self->extensions == NULL ? PyFrozenSet_New(NULL) : Py_NewRef(self->extensions);
}

static PyObject *positions_refs(Positions *self, void *closure) {
    (void)closure;
    return self->refs == NULL ? PyFrozenSet_New(NULL) : Py_NewRef(self->refs);
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

static PyType_Slot positions_slots[] = {
    {Py_tp_doc, "Positions(text, data): where each dict and list of `data`, and each member, is written in `text`."},
    {Py_tp_dealloc, positions_dealloc},
    {Py_tp_traverse, positions_traverse},
    {Py_tp_clear, positions_clear},
    {Py_tp_methods, positions_methods},
    {Py_tp_getset, positions_getset},
    {Py_sq_length, positions_len},
    {Py_tp_init, positions_init},
    {Py_tp_new, PyType_GenericNew},
    {0, NULL},
};

static PyType_Spec positions_spec = {
    .name = "apps.designs.engine._jsonpos.Positions",
    .basicsize = sizeof(Positions),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = positions_slots,
};

static int module_exec(PyObject *module) {
    PyObject *type = PyType_FromModuleAndSpec(module, &positions_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, "Positions", type) < 0;
    Py_DECREF(type);
    if (failed || PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0 ||
        PyModule_AddIntConstant(module, "MAX_TEXT", (long)MAX_TEXT) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_jsonpos",
    .m_doc = "Where each part of a loaded JSON document is written.",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit__jsonpos(void) { return PyModuleDef_Init(&module); }
