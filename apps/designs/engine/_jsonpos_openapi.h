/* endpoints(...): the OpenAPI parser's walk of `paths` into Endpoint objects, compiled. Included
   by _jsonpos.c. apps/designs/engine/openapi.py has the same walk in Python (`_endpoints`) and
   the tests hold both to the same endpoints, field by field; what is worked out once per shared
   object (a parameter's shape, a body schema's shape), the pagination style and the lazily
   reached schemas stay in Python and are called back. Everything the walk builds is a record of
   the model (see Record), with its SourceRef from `node_ref`. */

static const char *const http_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
#define METHOD_COUNT 8

typedef struct {
    PyObject *resolve, *node_ref, *targets; /* targets: ref -> target, resolve's own cache */
    Record endpoint, parameter, body, response;
    PyObject *parameter_shapes, *body_shapes, *constraint_keys, *component_name, *pagination, *reached;
    PyObject *names; /* component ref -> its schema name (or None), each worked out once */
    PyObject *method_names[METHOD_COUNT], *method_labels[METHOD_COUNT];
    PyObject *k_ref, *k_parameters, *k_request_body, *k_content, *k_responses, *k_description, *k_name,
        *k_schema, *k_security, *k_operation_id, *k_summary, *k_tags, *k_deprecated, *k_json, *empty,
        *k_in, *k_required, *k_type, *k_null, *k_array, *k_items, *k_properties, *k_combos[3],
        *s_schema, *s_parameters, *s_request_body_content, *s_responses, *s_content, *s_paths;
} Walk;

static void walk_clear(Walk *w) {
    Py_CLEAR(w->endpoint.type);
    Py_CLEAR(w->parameter.type);
    Py_CLEAR(w->body.type);
    Py_CLEAR(w->response.type);
    Py_CLEAR(w->names);
    for (int i = 0; i < 3; i++) {
        Py_CLEAR(w->k_combos[i]);
    }
    for (int i = 0; i < METHOD_COUNT; i++) {
        Py_CLEAR(w->method_names[i]);
        Py_CLEAR(w->method_labels[i]);
    }
    PyObject **strings[] = {&w->k_ref, &w->k_parameters, &w->k_request_body, &w->k_content, &w->k_responses,
                            &w->k_description, &w->k_name, &w->k_schema, &w->k_security, &w->k_operation_id,
                            &w->k_summary, &w->k_tags, &w->k_deprecated, &w->k_json, &w->empty, &w->s_schema,
                            &w->s_parameters, &w->s_request_body_content, &w->s_responses, &w->s_content,
                            &w->s_paths, &w->k_in, &w->k_required, &w->k_type, &w->k_null, &w->k_array,
                            &w->k_items, &w->k_properties};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        Py_CLEAR(*strings[i]);
    }
}

/* Where `node` is written: the compiled lookup when node_ref is one, else a call. */
static PyObject *walk_source(Walk *w, PyObject *node, PyObject *ptr) {
    if (Py_IS_TYPE(w->node_ref, &SourcesType)) {
        return sources_locate((Sources *)w->node_ref, node, ptr);
    }
    PyObject *args[2] = {node, ptr};
    return PyObject_Vectorcall(w->node_ref, args, 2, NULL);
}

/* OpenApiDocument.deref: follows a chain of local refs (at most 32, a cycle gives None).
   Returns a new reference (Py_None when the chain loops); *last, when given, is set to the last
   ref followed (borrowed; NULL for none). */
static PyObject *walk_deref_last(Walk *w, PyObject *node, PyObject **last) {
    PyObject *seen[32];
    if (last != NULL) {
        *last = NULL;
    }
    int count = 0;
    Py_INCREF(node);
    while (PyDict_Check(node) && count < 32) {
        PyObject *target = PyDict_GetItemWithError(node, w->k_ref);
        if (target == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(node);
                return NULL;
            }
            break;
        }
        if (!PyUnicode_Check(target)) {
            break;
        }
        if (last != NULL) {
            *last = target;
        }
        for (int i = 0; i < count; i++) {
            int same = PyUnicode_Compare(seen[i], target) == 0;
            if (same) {
                Py_DECREF(node);
                return Py_NewRef(Py_None);
            }
        }
        seen[count++] = target; /* kept alive by `node`, which the document holds */
        PyObject *next = Py_XNewRef(PyDict_GetItemWithError(w->targets, target));
        if (next == NULL && !PyErr_Occurred()) {
            next = PyObject_CallOneArg(w->resolve, target);
        }
        Py_DECREF(node);
        if (next == NULL) {
            return NULL;
        }
        node = next;
    }
    return node;
}

static PyObject *walk_deref(Walk *w, PyObject *node) { return walk_deref_last(w, node, NULL); }

/* value.get(key) as a borrowed reference, NULL with no error when absent. */
static inline PyObject *get(PyObject *dict, PyObject *key) { return PyDict_GetItemWithError(dict, key); }

/* str(value): the object itself when it is already a str. */
static PyObject *as_str(PyObject *value) { return PyUnicode_CheckExact(value) ? Py_NewRef(value) : PyObject_Str(value); }

/* _schema_type: the schema's type (the first that is not "null" of a list), or None. */
static PyObject *schema_type(Walk *w, PyObject *schema) {
    if (!PyDict_Check(schema)) {
        return Py_NewRef(Py_None);
    }
    PyObject *kind = get(schema, w->k_type);
    if (kind == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    if (PyList_Check(kind)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kind); i++) {
            PyObject *one = PyList_GET_ITEM(kind, i);
            int other = PyObject_RichCompareBool(one, w->k_null, Py_NE);
            if (other < 0) {
                return NULL;
            }
            if (other) {
                return as_str(one);
            }
        }
        return Py_NewRef(w->k_null);
    }
    return kind == Py_None ? Py_NewRef(Py_None) : as_str(kind);
}

/* _parameter_shape: (name, in, required, schema type, constraints) of a parameter object,
   kept in parameter_shapes by its id. New reference. */
static PyObject *parameter_shape(Walk *w, PyObject *resolved) {
    PyObject *key = PyLong_FromVoidPtr(resolved);
    if (key == NULL) {
        return NULL;
    }
    PyObject *shape = PyDict_GetItemWithError(w->parameter_shapes, key);
    if (shape != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(shape);
    }
    PyObject *raw_schema = get(resolved, w->k_schema);
    PyObject *schema = raw_schema == NULL && PyErr_Occurred() ? NULL : walk_deref(w, raw_schema ? raw_schema : Py_None);
    PyObject *constraints = schema == NULL ? NULL : PyDict_New();
    int failed = constraints == NULL;
    for (Py_ssize_t i = 0; !failed && PyDict_Check(schema) && i < PyTuple_GET_SIZE(w->constraint_keys); i++) {
        PyObject *name = PyTuple_GET_ITEM(w->constraint_keys, i);
        PyObject *value = get(schema, name);
        failed = value == NULL ? PyErr_Occurred() != NULL : PyDict_SetItem(constraints, name, value) < 0;
    }
    PyObject *name = failed ? NULL : get(resolved, w->k_name);
    PyObject *name_str = name == NULL ? NULL : as_str(name);
    PyObject *location = name_str == NULL ? NULL : get(resolved, w->k_in);
    PyObject *location_str =
        name_str == NULL || (location == NULL && PyErr_Occurred()) ? NULL : location ? as_str(location) : Py_NewRef(w->empty);
    PyObject *required = location_str == NULL ? NULL : get(resolved, w->k_required);
    int is_required = location_str == NULL || PyErr_Occurred() ? -1 : required ? PyObject_IsTrue(required) : 0;
    PyObject *kind = is_required < 0 ? NULL : schema_type(w, schema);
    if (kind != NULL) {
        shape = PyTuple_Pack(5, name_str, location_str, is_required ? Py_True : Py_False, kind, constraints);
        if (shape != NULL && PyDict_SetItem(w->parameter_shapes, key, shape) < 0) {
            Py_CLEAR(shape);
        }
    }
    Py_DECREF(key);
    Py_XDECREF(schema);
    Py_XDECREF(constraints);
    Py_XDECREF(name_str);
    Py_XDECREF(location_str);
    Py_XDECREF(kind);
    return shape;
}

/* _collect_fields: the names of `schema`'s properties, and of those of its allOf, oneOf and
   anyOf parts (followed through refs, 8 levels deep), into `fields` (a dict used as an ordered
   set). */
static int collect_fields(Walk *w, PyObject *schema, PyObject *fields, int depth) {
    if (depth > 8 || !PyDict_Check(schema)) {
        return 0;
    }
    PyObject *props = get(schema, w->k_properties);
    if (props == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (props != NULL && PyDict_Check(props)) {
        Py_ssize_t position = 0;
        PyObject *key, *value;
        while (PyDict_Next(props, &position, &key, &value)) {
            PyObject *name = as_str(key);
            int failed = name == NULL || PyDict_SetDefault(fields, name, Py_None) == NULL;
            Py_XDECREF(name);
            if (failed) {
                return -1;
            }
        }
    }
    for (int c = 0; c < 3; c++) {
        PyObject *parts = get(schema, w->k_combos[c]);
        if (parts == NULL && PyErr_Occurred()) {
            return -1;
        }
        if (parts == NULL || !PyList_Check(parts)) {
            continue;
        }
        Py_INCREF(parts);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(parts); i++) {
            PyObject *target = walk_deref(w, PyList_GET_ITEM(parts, i));
            int failed = target == NULL || collect_fields(w, target, fields, depth + 1) < 0;
            Py_XDECREF(target);
            if (failed) {
                Py_DECREF(parts);
                return -1;
            }
        }
        Py_DECREF(parts);
    }
    return 0;
}

/* _body_shape: (component schema name, an array of them, top-level field names) of a body's
   schema (Py_None for none), kept in body_shapes by its id. New reference. */
static PyObject *body_shape(Walk *w, PyObject *schema) {
    PyObject *key = PyLong_FromVoidPtr(schema);
    if (key == NULL) {
        return NULL;
    }
    PyObject *shape = PyDict_GetItemWithError(w->body_shapes, key);
    if (shape != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(shape);
    }
    PyObject *ref;
    PyObject *target = walk_deref_last(w, schema, &ref);
    int is_array = 0;
    if (target != NULL && PyDict_Check(target)) {
        PyObject *kind = get(target, w->k_type);
        is_array = kind == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_RichCompareBool(kind, w->k_array, Py_EQ);
        if (is_array > 0) {
            PyObject *items = get(target, w->k_items);
            PyObject *inner = items == NULL && PyErr_Occurred() ? NULL : walk_deref_last(w, items ? items : Py_None, &ref);
            Py_SETREF(target, inner);
        }
    }
    PyObject *fields = target == NULL || is_array < 0 ? NULL : PyDict_New();
    PyObject *names = fields == NULL || collect_fields(w, target, fields, 0) < 0 ? NULL : PyDict_Keys(fields);
    PyObject *field_tuple = names == NULL ? NULL : PyList_AsTuple(names);
    PyObject *name = NULL;
    if (field_tuple != NULL) { /* the component's name, worked out once per ref */
        name = ref == NULL ? Py_NewRef(Py_None) : Py_XNewRef(PyDict_GetItemWithError(w->names, ref));
        if (name == NULL && !PyErr_Occurred()) {
            name = PyObject_CallOneArg(w->component_name, ref);
            if (name != NULL && PyDict_SetItem(w->names, ref, name) < 0) {
                Py_CLEAR(name);
            }
        }
    }
    if (name != NULL) {
        shape = PyTuple_Pack(3, name, is_array > 0 ? Py_True : Py_False, field_tuple);
        if (shape != NULL && PyDict_SetItem(w->body_shapes, key, shape) < 0) {
            Py_CLEAR(shape);
        }
    }
    Py_DECREF(key);
    Py_XDECREF(target);
    Py_XDECREF(fields);
    Py_XDECREF(names);
    Py_XDECREF(field_tuple);
    Py_XDECREF(name);
    return shape;
}

/* ptr + "/" + escaped str(key). */
static PyObject *join_key(PyObject *ptr, PyObject *key) {
    PyObject *name = segment(key, 0);
    if (name == NULL) {
        return NULL;
    }
    PyObject *joined = join(ptr, name);
    Py_DECREF(name);
    return joined;
}

/* _parameters: the Parameter of each usable item of `raw` (a list), appended to `out`. */
static int walk_parameters(Walk *w, PyObject *raw, PyObject *owner_ptr, PyObject *out) {
    if (!PyList_Check(raw)) {
        return 0;
    }
    PyObject *list_ptr = join(owner_ptr, w->s_parameters);
    if (list_ptr == NULL) {
        return -1;
    }
    int failed = 0;
    for (Py_ssize_t index = 0; !failed && index < PyList_GET_SIZE(raw); index++) {
        PyObject *param = PyList_GET_ITEM(raw, index);
        Py_INCREF(param);
        PyObject *resolved = walk_deref(w, param);
        if (resolved == NULL) {
            failed = 1;
        } else if (PyDict_Check(resolved)) {
            int named = PyDict_Contains(resolved, w->k_name);
            PyObject *shape = named > 0 ? parameter_shape(w, resolved) : NULL;
            if (named < 0 || (named > 0 && shape == NULL)) {
                failed = 1;
            } else if (named > 0) {
                PyObject *number = index_name(index);
                PyObject *ptr = number == NULL ? NULL : join(list_ptr, number);
                PyObject *source = ptr == NULL ? NULL : walk_source(w, param, ptr);
                if (source == NULL || !PyTuple_Check(shape) || PyTuple_GET_SIZE(shape) != 5) {
                    if (source != NULL) {
                        PyErr_SetString(PyExc_TypeError, "a parameter shape is a 5-tuple");
                    }
                    failed = 1;
                } else {
                    PyObject *values[6] = {PyTuple_GET_ITEM(shape, 0), PyTuple_GET_ITEM(shape, 1),
                                           PyTuple_GET_ITEM(shape, 2), PyTuple_GET_ITEM(shape, 3), source,
                                           PyTuple_GET_ITEM(shape, 4)};
                    PyObject *made = record_make(&w->parameter, values);
                    failed = made == NULL || PyList_Append(out, made) < 0;
                    Py_XDECREF(made);
                }
                Py_XDECREF(number);
                Py_XDECREF(ptr);
                Py_XDECREF(source);
                Py_XDECREF(shape);
            }
        }
        Py_XDECREF(resolved);
        Py_DECREF(param);
    }
    Py_DECREF(list_ptr);
    return failed ? -1 : 0;
}

/* _body: the Body a `content` map describes (new reference; Py_None for none). `ptr` is where
   the content is written under the operation; `via` the $ref object it was reached through or
   NULL. */
static PyObject *walk_body(Walk *w, PyObject *content, PyObject *ptr, PyObject *via) {
    if (content == NULL || !PyDict_Check(content) || PyDict_GET_SIZE(content) == 0) {
        return Py_NewRef(Py_None);
    }
    Py_ssize_t position = 0;
    PyObject *first, *value, *media = NULL;
    PyDict_Next(content, &position, &first, &value);
    if (PyDict_GET_SIZE(content) == 1) {
        media = first;
    } else {
        int has = PySequence_Contains(first, w->k_json);
        if (has < 0) {
            return NULL;
        }
        if (has) {
            media = first;
        } else {
            position = 0;
            PyObject *key;
            while (media == NULL && PyDict_Next(content, &position, &key, &value)) {
                int json = PySequence_Contains(key, w->k_json);
                if (json < 0) {
                    return NULL;
                }
                if (json) {
                    media = key;
                }
            }
            if (media == NULL) {
                media = first;
            }
        }
    }
    Py_INCREF(media);
    PyObject *media_obj = PyDict_GetItemWithError(content, media);
    if (media_obj == NULL && PyErr_Occurred()) {
        Py_DECREF(media);
        return NULL;
    }
    PyObject *schema = NULL; /* NULL for none, like a `schema: null` */
    if (media_obj != NULL && PyDict_Check(media_obj)) {
        schema = PyDict_GetItemWithError(media_obj, w->k_schema);
        if (schema == NULL && PyErr_Occurred()) {
            Py_DECREF(media);
            return NULL;
        }
        if (schema == Py_None) {
            schema = NULL;
        }
    }
    PyObject *media_type = as_str(media);
    PyObject *media_ptr = media_type == NULL ? NULL : join_key(ptr, media_type);
    PyObject *shape = media_ptr == NULL ? NULL : body_shape(w, schema ? schema : Py_None);
    PyObject *schema_ptr = shape == NULL ? NULL : schema ? join(media_ptr, w->s_schema) : Py_NewRef(Py_None);
    PyObject *located = via ? via : media_obj ? media_obj : Py_None;
    PyObject *source = schema_ptr == NULL ? NULL : walk_source(w, located, media_ptr);
    PyObject *made = NULL;
    if (source != NULL) {
        if (!PyTuple_Check(shape) || PyTuple_GET_SIZE(shape) != 3) {
            PyErr_SetString(PyExc_TypeError, "a body shape is a 3-tuple");
        } else {
            PyObject *values[6] = {media_type, schema_ptr, PyTuple_GET_ITEM(shape, 0), PyTuple_GET_ITEM(shape, 1),
                                   PyTuple_GET_ITEM(shape, 2), source};
            made = record_make(&w->body, values);
        }
    }
    Py_DECREF(media);
    Py_XDECREF(media_type);
    Py_XDECREF(media_ptr);
    Py_XDECREF(shape);
    Py_XDECREF(schema_ptr);
    Py_XDECREF(source);
    return made;
}

/* _security: a tuple of the sorted scheme names of each requirement; () for anything else. */
static PyObject *walk_security(PyObject *value) {
    if (!PyList_Check(value)) {
        return PyTuple_New(0);
    }
    Py_ssize_t count = PyList_GET_SIZE(value);
    PyObject *out = PyTuple_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        PyObject *requirement = PyList_GET_ITEM(value, i), *names;
        if (PyDict_Check(requirement)) {
            PyObject *keys = PyDict_Keys(requirement);
            names = keys == NULL || PyList_Sort(keys) < 0 ? NULL : PyList_AsTuple(keys);
            Py_XDECREF(keys);
        } else {
            names = PyTuple_New(0);
        }
        if (names == NULL) {
            Py_CLEAR(out);
        } else {
            PyTuple_SET_ITEM(out, i, names);
        }
    }
    return out;
}

/* _pagination: the style of the strongest of `pagination`'s ((names, style), ...) that a query
   parameter's lower-cased name is in; None for none. */
static PyObject *walk_pagination(Walk *w, PyObject *parameters) {
    static PyObject *k_query;
    if (k_query == NULL && (k_query = PyUnicode_InternFromString("query")) == NULL) {
        return NULL;
    }
    Py_ssize_t best = PyTuple_GET_SIZE(w->pagination);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parameters); i++) {
        PyObject *parameter = PyTuple_GET_ITEM(parameters, i);
        PyObject *location = PyMember_GetOne((const char *)parameter, w->parameter.members[1]);
        int query = location == NULL ? -1 : PyObject_RichCompareBool(location, k_query, Py_EQ);
        Py_XDECREF(location);
        if (query <= 0) {
            if (query < 0) {
                return NULL;
            }
            continue;
        }
        PyObject *name = PyMember_GetOne((const char *)parameter, w->parameter.members[0]);
        PyObject *lowered = name == NULL ? NULL : PyObject_CallMethod(name, "lower", NULL);
        Py_XDECREF(name);
        if (lowered == NULL) {
            return NULL;
        }
        for (Py_ssize_t s = 0; s < best; s++) {
            int has = PySequence_Contains(PyTuple_GET_ITEM(PyTuple_GET_ITEM(w->pagination, s), 0), lowered);
            if (has < 0) {
                Py_DECREF(lowered);
                return NULL;
            }
            if (has) {
                best = s;
                break;
            }
        }
        Py_DECREF(lowered);
    }
    return best < PyTuple_GET_SIZE(w->pagination) ? Py_NewRef(PyTuple_GET_ITEM(PyTuple_GET_ITEM(w->pagination, best), 1))
                                                   : Py_NewRef(Py_None);
}

/* The Endpoint of one operation, appended to `out`. */
static int walk_operation(Walk *w, PyObject *path_str, PyObject *full_path, PyObject *item_ptr,
                          int method, PyObject *operation, PyObject *shared, int root_security,
                          PyObject *default_security, PyObject *out) {
    PyObject *op_ptr = join(item_ptr, w->method_names[method]);
    PyObject *own = op_ptr == NULL ? NULL : PyList_New(0);
    PyObject *merged = own == NULL ? NULL : PyDict_New();
    PyObject *parameters = NULL, *request_body = NULL, *responses = NULL, *response_list = NULL;
    PyObject *security = NULL, *operation_id = NULL, *summary = NULL, *tags = NULL, *pagination = NULL;
    PyObject *source = NULL, *reached = NULL, *made = NULL;
    int failed = merged == NULL;
    if (!failed) {
        PyObject *raw = get(operation, w->k_parameters);
        failed = (raw == NULL && PyErr_Occurred()) || (raw != NULL && walk_parameters(w, raw, op_ptr, own) < 0);
    }
    /* Parameters by (name, in): the operation's own replace the path item's, in place. */
    PyObject *lists[2] = {shared, own};
    for (int l = 0; !failed && l < 2; l++) {
        for (Py_ssize_t i = 0; !failed && i < PyList_GET_SIZE(lists[l]); i++) {
            PyObject *parameter = PyList_GET_ITEM(lists[l], i);
            PyObject *name = PyMember_GetOne((const char *)parameter, w->parameter.members[0]);
            PyObject *location = name == NULL ? NULL : PyMember_GetOne((const char *)parameter, w->parameter.members[1]);
            PyObject *key = location == NULL ? NULL : PyTuple_Pack(2, name, location);
            failed = key == NULL || PyDict_SetItem(merged, key, parameter) < 0;
            Py_XDECREF(name);
            Py_XDECREF(location);
            Py_XDECREF(key);
        }
    }
    if (!failed) {
        PyObject *values = PyDict_Values(merged);
        parameters = values == NULL ? NULL : PyList_AsTuple(values);
        Py_XDECREF(values);
        failed = parameters == NULL;
    }
    if (!failed) { /* the request body */
        PyObject *raw = get(operation, w->k_request_body);
        if (raw == NULL && PyErr_Occurred()) {
            failed = 1;
        } else {
            PyObject *request = walk_deref(w, raw ? raw : Py_None);
            if (request == NULL) {
                failed = 1;
            } else if (PyDict_Check(request)) {
                PyObject *content = get(request, w->k_content);
                PyObject *ptr = content == NULL && PyErr_Occurred() ? NULL : join(op_ptr, w->s_request_body_content);
                request_body = ptr == NULL ? NULL : walk_body(w, content, ptr, request == raw ? NULL : raw);
                failed = request_body == NULL;
                Py_XDECREF(ptr);
            } else {
                request_body = Py_NewRef(Py_None);
            }
            Py_XDECREF(request);
        }
    }
    if (!failed) { /* the responses */
        response_list = PyList_New(0);
        PyObject *raw = get(operation, w->k_responses);
        PyObject *base = response_list == NULL || (raw == NULL && PyErr_Occurred()) ? NULL : join(op_ptr, w->s_responses);
        failed = base == NULL;
        Py_ssize_t position = 0;
        PyObject *status, *response;
        while (!failed && raw != NULL && PyDict_Check(raw) && PyDict_Next(raw, &position, &status, &response)) {
            Py_INCREF(status);
            Py_INCREF(response);
            PyObject *code = as_str(status);
            PyObject *ptr = code == NULL ? NULL : join_key(base, code);
            PyObject *resolved = ptr == NULL ? NULL : walk_deref(w, response);
            failed = resolved == NULL;
            if (!failed && PyDict_Check(resolved)) {
                PyObject *description = get(resolved, w->k_description);
                PyObject *text = description ? as_str(description) : PyErr_Occurred() ? NULL : Py_NewRef(w->empty);
                PyObject *content = text == NULL ? NULL : get(resolved, w->k_content);
                PyObject *content_ptr = text == NULL || (content == NULL && PyErr_Occurred()) ? NULL : join(ptr, w->s_content);
                PyObject *body = content_ptr == NULL ? NULL : walk_body(w, content, content_ptr, resolved == response ? NULL : response);
                PyObject *where = body == NULL ? NULL : walk_source(w, response, ptr);
                if (where == NULL) {
                    failed = 1;
                } else {
                    PyObject *values[4] = {code, text, body, where};
                    PyObject *one = record_make(&w->response, values);
                    failed = one == NULL || PyList_Append(response_list, one) < 0;
                    Py_XDECREF(one);
                }
                Py_XDECREF(text);
                Py_XDECREF(content_ptr);
                Py_XDECREF(body);
                Py_XDECREF(where);
            }
            Py_XDECREF(resolved);
            Py_XDECREF(code);
            Py_XDECREF(ptr);
            Py_DECREF(status);
            Py_DECREF(response);
        }
        Py_XDECREF(base);
        if (!failed) {
            responses = PyList_AsTuple(response_list);
            failed = responses == NULL;
        }
    }
    int declared = 0;
    if (!failed) { /* security, operationId, summary, tags, deprecated */
        PyObject *own_security = get(operation, w->k_security);
        declared = own_security != NULL || root_security;
        security = own_security ? walk_security(own_security) : PyErr_Occurred() ? NULL : Py_NewRef(default_security);
        PyObject *id = security == NULL ? NULL : get(operation, w->k_operation_id);
        int id_true = id == NULL ? 0 : PyObject_IsTrue(id);
        operation_id = PyErr_Occurred() || id_true < 0 ? NULL : id_true ? as_str(id) : Py_NewRef(Py_None);
        PyObject *text = NULL;
        if (operation_id != NULL) {
            PyObject *candidates[2] = {get(operation, w->k_summary), NULL};
            int chosen = candidates[0] == NULL ? 0 : PyObject_IsTrue(candidates[0]);
            if (chosen == 0 && !PyErr_Occurred()) {
                candidates[1] = get(operation, w->k_description);
                chosen = candidates[1] == NULL ? 0 : PyObject_IsTrue(candidates[1]);
                text = chosen > 0 ? candidates[1] : NULL;
            } else {
                text = chosen > 0 ? candidates[0] : NULL;
            }
            if (chosen >= 0 && !PyErr_Occurred()) {
                PyObject *whole = text ? as_str(text) : Py_NewRef(w->empty);
                summary = whole == NULL || PyUnicode_GET_LENGTH(whole) <= 300 ? whole : PyUnicode_Substring(whole, 0, 300);
                if (whole != NULL && summary != whole) {
                    Py_DECREF(whole);
                }
            }
        }
        PyObject *raw_tags = summary == NULL ? NULL : get(operation, w->k_tags);
        int tags_true = raw_tags == NULL ? 0 : PyObject_IsTrue(raw_tags);
        if (summary != NULL && !PyErr_Occurred() && tags_true >= 0) {
            PyObject *list = PyList_New(0);
            PyObject *iterator = list == NULL || !tags_true ? NULL : PyObject_GetIter(raw_tags);
            PyObject *tag;
            int bad = list == NULL || (tags_true && iterator == NULL);
            while (!bad && iterator != NULL && (tag = PyIter_Next(iterator)) != NULL) {
                PyObject *name = as_str(tag);
                bad = name == NULL || PyList_Append(list, name) < 0;
                Py_XDECREF(name);
                Py_DECREF(tag);
            }
            tags = bad || PyErr_Occurred() ? NULL : PyList_AsTuple(list);
            Py_XDECREF(iterator);
            Py_XDECREF(list);
        }
        failed = tags == NULL;
    }
    int deprecated = 0;
    if (!failed) {
        PyObject *flag = get(operation, w->k_deprecated);
        deprecated = flag == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_IsTrue(flag);
        failed = deprecated < 0;
    }
    if (!failed) {
        if (method == 0) { /* get */
            pagination = walk_pagination(w, parameters);
        } else {
            pagination = Py_NewRef(Py_None);
        }
        source = pagination == NULL ? NULL : walk_source(w, operation, op_ptr);
        reached = source == NULL ? NULL : PyObject_CallOneArg(w->reached, operation);
        failed = reached == NULL;
    }
    if (!failed) {
        PyObject *entities = PyTuple_New(0);
        PyObject *values[16] = {
            w->method_labels[method], path_str, full_path, operation_id, summary, tags, parameters,
            request_body, responses, security, declared ? Py_True : Py_False, deprecated ? Py_True : Py_False,
            pagination, entities, source, reached,
        };
        made = entities == NULL ? NULL : record_make(&w->endpoint, values);
        Py_XDECREF(entities);
        failed = made == NULL || PyList_Append(out, made) < 0;
    }
    Py_XDECREF(op_ptr);
    Py_XDECREF(own);
    Py_XDECREF(merged);
    Py_XDECREF(parameters);
    Py_XDECREF(request_body);
    Py_XDECREF(responses);
    Py_XDECREF(response_list);
    Py_XDECREF(security);
    Py_XDECREF(operation_id);
    Py_XDECREF(summary);
    Py_XDECREF(tags);
    Py_XDECREF(pagination);
    Py_XDECREF(source);
    Py_XDECREF(reached);
    Py_XDECREF(made);
    return failed ? -1 : 0;
}

static int walk_init(Walk *w, PyObject *classes) {
    if (!PyTuple_Check(classes) || PyTuple_GET_SIZE(classes) != 4) {
        PyErr_SetString(PyExc_TypeError, "classes is (Endpoint, Parameter, Body, Response)");
        return -1;
    }
    Record *records[4] = {&w->endpoint, &w->parameter, &w->body, &w->response};
    Py_ssize_t sizes[4] = {16, 6, 6, 4};
    for (int i = 0; i < 4; i++) {
        if (record_init(records[i], PyTuple_GET_ITEM(classes, i)) < 0) {
            return -1;
        }
        if (records[i]->count != sizes[i]) {
            PyErr_Format(PyExc_TypeError, "%s does not have the fields the walk fills", records[i]->type->tp_name);
            return -1;
        }
    }
    for (int i = 0; i < METHOD_COUNT; i++) {
        w->method_names[i] = PyUnicode_InternFromString(http_methods[i]);
        w->method_labels[i] = w->method_names[i] == NULL ? NULL : PyObject_CallMethod(w->method_names[i], "upper", NULL);
        if (w->method_labels[i] == NULL) {
            return -1;
        }
    }
    struct {
        PyObject **slot;
        const char *text;
    } strings[] = {
        {&w->k_ref, "$ref"},
        {&w->k_parameters, "parameters"},
        {&w->k_request_body, "requestBody"},
        {&w->k_content, "content"},
        {&w->k_responses, "responses"},
        {&w->k_description, "description"},
        {&w->k_name, "name"},
        {&w->k_schema, "schema"},
        {&w->k_security, "security"},
        {&w->k_operation_id, "operationId"},
        {&w->k_summary, "summary"},
        {&w->k_tags, "tags"},
        {&w->k_deprecated, "deprecated"},
        {&w->k_json, "json"},
        {&w->empty, ""},
        {&w->s_schema, "schema"},
        {&w->s_parameters, "parameters"},
        {&w->s_request_body_content, "requestBody/content"},
        {&w->s_responses, "responses"},
        {&w->s_content, "content"},
        {&w->s_paths, "/paths"},
        {&w->k_in, "in"},
        {&w->k_required, "required"},
        {&w->k_type, "type"},
        {&w->k_null, "null"},
        {&w->k_array, "array"},
        {&w->k_items, "items"},
        {&w->k_properties, "properties"},
        {&w->k_combos[0], "allOf"},
        {&w->k_combos[1], "oneOf"},
        {&w->k_combos[2], "anyOf"},
    };
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        if ((*strings[i].slot = PyUnicode_InternFromString(strings[i].text)) == NULL) {
            return -1;
        }
    }
    w->names = PyDict_New();
    return w->names == NULL ? -1 : 0;
}

/* endpoints(paths, root_security, base_path, default_security, resolve, node_ref, classes,
             parameter_shapes, body_shapes, constraint_keys, component_name, pagination, reached,
             targets) -> [Endpoint, ...]
   pagination is ((names, style), ...), strongest first; reached(operation) gives an Endpoint's
   schemas_reached; targets is resolve's cache (ref -> target), read first. */
static PyObject *endpoints(PyObject *module, PyObject *args) {
    Walk w = {0};
    PyObject *paths, *base_path, *default_security, *classes;
    int root_security;
    if (!PyArg_ParseTuple(args, "O!pUO!OOO!O!O!O!OO!OO!:endpoints", &PyDict_Type, &paths, &root_security, &base_path,
                          &PyTuple_Type, &default_security, &w.resolve, &w.node_ref, &PyTuple_Type, &classes,
                          &PyDict_Type, &w.parameter_shapes, &PyDict_Type, &w.body_shapes, &PyTuple_Type,
                          &w.constraint_keys, &w.component_name, &PyTuple_Type, &w.pagination, &w.reached,
                          &PyDict_Type, &w.targets)) {
        return NULL;
    }
    if (walk_init(&w, classes) < 0) {
        walk_clear(&w);
        return NULL;
    }
    PyObject *out = PyList_New(0);
    Py_ssize_t position = 0;
    PyObject *path, *raw_item;
    int failed = out == NULL;
    while (!failed && PyDict_Next(paths, &position, &path, &raw_item)) {
        Py_INCREF(path);
        Py_INCREF(raw_item);
        PyObject *path_str = as_str(path);
        PyObject *full_path = path_str == NULL ? NULL : PyUnicode_Concat(base_path, path_str);
        PyObject *item_ptr = full_path == NULL ? NULL : join_key(w.s_paths, path_str);
        PyObject *item = item_ptr == NULL ? NULL : walk_deref(&w, raw_item);
        PyObject *shared = item == NULL ? NULL : PyList_New(0);
        failed = shared == NULL;
        if (!failed && PyDict_Check(item)) {
            PyObject *raw = get(item, w.k_parameters);
            failed = (raw == NULL && PyErr_Occurred()) || (raw != NULL && walk_parameters(&w, raw, item_ptr, shared) < 0);
            for (int method = 0; !failed && method < METHOD_COUNT; method++) {
                PyObject *operation = get(item, w.method_names[method]);
                if (operation == NULL) {
                    failed = PyErr_Occurred() != NULL;
                    continue;
                }
                if (!PyDict_Check(operation)) {
                    continue;
                }
                Py_INCREF(operation);
                failed = walk_operation(&w, path_str, full_path, item_ptr, method, operation, shared,
                                        root_security, default_security, out) < 0;
                Py_DECREF(operation);
            }
        }
        Py_XDECREF(path_str);
        Py_XDECREF(full_path);
        Py_XDECREF(item_ptr);
        Py_XDECREF(item);
        Py_XDECREF(shared);
        Py_DECREF(path);
        Py_DECREF(raw_item);
    }
    walk_clear(&w);
    if (failed) {
        Py_XDECREF(out);
        return NULL;
    }
    return out;
}
