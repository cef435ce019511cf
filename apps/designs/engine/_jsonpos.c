/* Where each part of a loaded JSON document is written.

   Positions(text, data) walks the JSON text and the data that json.loads made of it side by
   side, in document order, and remembers for every dict and list in `data` where it is written
   (the position a JSON pointer to it names: its key when it is an object member, itself when
   it is an array item or the root) and where each of its members is. Positions are packed as
   (line << 32) | column, 1-based, columns counting characters.

     positions.get(node)          a dict or list of `data`; None for anything else
     positions.member(node, key)  the member `key` (a str of a dict, an int of a list); None if absent

   The text is only scanned, never decoded: keys are compared with the loaded keys, and any
   disagreement (a duplicate key, which json.loads folds into one, or a text that is not the
   one `data` came from) raises ValueError, so that the caller can fall back to a slower
   locator. Nesting is bounded by the data, which json.loads already limited. The table keys
   containers by address and holds a reference to `data`, so no address can be reused while it
   exists; `data` must not be changed afterwards. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* What the scan found: per container its address, position, and where its members' positions
   start in `members`. */
typedef struct {
    void **keys;
    long long *where;
    Py_ssize_t *first;
    Py_ssize_t used, allocated;
    long long *members;
    Py_ssize_t members_used, members_allocated;
} Found;

static void found_free(Found *found) {
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

#define SCAN FN(Scan)

#define CHAR Py_UCS1
#define FN(name) name##_1
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN

#define CHAR Py_UCS2
#define FN(name) name##_2
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN

#define CHAR Py_UCS4
#define FN(name) name##_4
#include "_jsonpos_scan.h"
#undef CHAR
#undef FN

/* Scans a text of one kind into `found`; sets `matched` to 1, 0 (disagreed) or -1 (error). */
#define RUN(suffix, type)                                                                            \
    do {                                                                                             \
        Scan_##suffix s = {(const type *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), 0, 1, 0, &found}; \
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
    Found found;
    Py_ssize_t *slots; /* open addressing: index into found + 1, 0 for empty */
    Py_ssize_t mask;
} Positions;

static inline Py_ssize_t slot_of(void *key, Py_ssize_t mask) {
    size_t h = (size_t)key >> 4;
    h *= (size_t)0x9E3779B97F4A7C15ULL;
    return (Py_ssize_t)((h >> 20) & (size_t)mask);
}

static void positions_dealloc(Positions *self) {
    Py_XDECREF(self->data);
    found_free(&self->found);
    PyMem_Free(self->slots);
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
    Py_ssize_t *slots = PyMem_Calloc(size, sizeof(Py_ssize_t));
    if (slots == NULL) {
        found_free(&found);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < found.used; i++) {
        Py_ssize_t slot = slot_of(found.keys[i], size - 1);
        while (slots[slot] != 0) {
            slot = (slot + 1) & (size - 1);
        }
        slots[slot] = i + 1;
    }
    self->data = Py_NewRef(data);
    self->found = found;
    self->slots = slots;
    self->mask = size - 1;
    return 0;
}

/* Index of a container in `found`, or -1. */
static Py_ssize_t positions_find(Positions *self, PyObject *node) {
    if (self->slots == NULL) {
        return -1;
    }
    Py_ssize_t slot = slot_of(node, self->mask);
    while (self->slots[slot] != 0) {
        Py_ssize_t index = self->slots[slot] - 1;
        if (self->found.keys[index] == (void *)node) {
            return index;
        }
        slot = (slot + 1) & self->mask;
    }
    return -1;
}

static PyObject *positions_get(Positions *self, PyObject *node) {
    Py_ssize_t index = positions_find(self, node);
    if (index < 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(self->found.where[index]);
}

static PyObject *positions_member(Positions *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "member(node, key) takes two arguments");
        return NULL;
    }
    PyObject *node = args[0], *wanted = args[1];
    Py_ssize_t index = positions_find(self, node);
    if (index < 0) {
        Py_RETURN_NONE;
    }
    Py_ssize_t first = self->found.first[index];
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
    .tp_as_sequence = &positions_sequence,
    .tp_init = (initproc)positions_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonpos", "Where each part of a loaded JSON document is written.", -1, NULL,
};

PyMODINIT_FUNC PyInit__jsonpos(void) {
    if (PyType_Ready(&PositionsType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Positions", (PyObject *)&PositionsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
