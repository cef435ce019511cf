/* responses_rules(...): the security review's checks of every `responses` object, compiled.
   Included by _jsonpos.c. apps/security/engine/review.py has the same loop in Python
   (`_python_responses_rules`) and the tests hold both to the same calls. */

/* The review's _deref: follows local refs (`#/...`, at most 32 hops); returns the target (new
   reference) and sets *where (new reference) to where it is written, unless where is NULL. */
static PyObject *review_deref(PyObject *resolve, PyObject *node, PyObject *ptr, PyObject **where) {
    static PyObject *k_ref = NULL;
    if (k_ref == NULL && (k_ref = PyUnicode_InternFromString("$ref")) == NULL) {
        return NULL;
    }
    Py_INCREF(node);
    Py_INCREF(ptr);
    for (int hops = 0; PyDict_CheckExact(node) && hops < 32; hops++) {
        PyObject *ref = PyDict_GetItemWithError(node, k_ref);
        if (ref == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            break;
        }
        if (!PyUnicode_CheckExact(ref) || PyUnicode_GET_LENGTH(ref) == 0 || PyUnicode_READ_CHAR(ref, 0) != '#') {
            break;
        }
        PyObject *at = where == NULL ? Py_NewRef(ptr) : PyUnicode_Substring(ref, 1, PyUnicode_GET_LENGTH(ref));
        PyObject *next = at == NULL ? NULL : PyObject_CallOneArg(resolve, ref);
        if (next == NULL) {
            Py_XDECREF(at);
            goto error;
        }
        Py_SETREF(ptr, at);
        Py_SETREF(node, next);
    }
    if (where != NULL) {
        *where = ptr;
    } else {
        Py_DECREF(ptr);
    }
    return node;
error:
    Py_DECREF(node);
    Py_DECREF(ptr);
    return NULL;
}

/* _has_content: whether a response (NULL: absent) has a non-empty `content`, through its refs. */
static int has_content(PyObject *resolve, PyObject *response, PyObject *k_content, PyObject *empty) {
    if (response == NULL) {
        return 0;
    }
    PyObject *resolved = review_deref(resolve, response, empty, NULL);
    if (resolved == NULL) {
        return -1;
    }
    int found = 0;
    if (PyDict_Check(resolved)) {
        PyObject *content = PyDict_GetItemWithError(resolved, k_content);
        found = content == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_IsTrue(content);
    }
    Py_DECREF(resolved);
    return found;
}

static int report(PyObject *reporter, PyObject *rule, PyObject *ptr, PyObject *node, PyObject *message) {
    PyObject *args[4] = {rule, ptr, node, message};
    PyObject *done = PyObject_Vectorcall(reporter, args, 4, NULL);
    Py_XDECREF(done);
    return done == NULL ? -1 : 0;
}

enum { R_429, R_401, R_500, R_VALIDATION, R_RATE_LIMIT, R_RETRY_AFTER, R_COUNT };

/* responses_rules(responses_objects, resolve, hit, once, rules, rate_limit_sets)
   responses_objects  [(pointer, responses dict), ...] as schema_scan returns them
   rules              ((rule_id, message), ...) for: no 429, no 401, no 500 (each a response with
                      a body), no 400/422/4XX, no rate-limit headers (a message with "{}" for the
                      status), a 429 without Retry-After
   For each responses object: once(...) for each of the first four that it lacks; for each of
   its responses, through refs, hit(...) when a 2xx or 4xx declares none of the
   rate_limit_sets of headers (at its headers, or at it when it has none) and when a 429 has
   no Retry-After. */
static PyObject *responses_rules(PyObject *module, PyObject *args) {
    PyObject *objects, *resolve, *hit, *once, *rules, *rate_limit_sets;
    if (!PyArg_ParseTuple(args, "O!OOOO!O!:responses_rules", &PyList_Type, &objects, &resolve, &hit, &once,
                          &PyTuple_Type, &rules, &PyTuple_Type, &rate_limit_sets)) {
        return NULL;
    }
    PyObject *rule[R_COUNT], *message[R_COUNT];
    if (PyTuple_GET_SIZE(rules) != R_COUNT) {
        PyErr_SetString(PyExc_TypeError, "rules must hold six (rule_id, message) pairs");
        return NULL;
    }
    for (int i = 0; i < R_COUNT; i++) {
        PyObject *pair = PyTuple_GET_ITEM(rules, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "rules must hold six (rule_id, message) pairs");
            return NULL;
        }
        rule[i] = PyTuple_GET_ITEM(pair, 0);
        message[i] = PyTuple_GET_ITEM(pair, 1);
    }
    const char *wanted[] = {"429", "401", "500", "400", "422", "4XX", "content", "", "headers", "Retry-After"};
    PyObject *k[10] = {NULL};
    PyObject *messages = PyDict_New(); /* status -> its rate-limit message */
    int failed = messages == NULL;
    for (int i = 0; !failed && i < 10; i++) {
        failed = (k[i] = PyUnicode_InternFromString(wanted[i])) == NULL;
    }
    PyObject *k_429 = k[0], *k_content = k[6], *empty = k[7], *k_headers = k[8], *k_retry_after = k[9];
    for (Py_ssize_t o = 0; !failed && o < PyList_GET_SIZE(objects); o++) {
        PyObject *entry = PyList_GET_ITEM(objects, o);
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 || !PyDict_Check(PyTuple_GET_ITEM(entry, 1))) {
            PyErr_SetString(PyExc_TypeError, "responses_objects holds (pointer, dict) pairs");
            failed = 1;
            break;
        }
        PyObject *where = PyTuple_GET_ITEM(entry, 0), *responses = PyTuple_GET_ITEM(entry, 1);
        Py_INCREF(entry);
        for (int r = R_429; !failed && r <= R_500; r++) {
            PyObject *response = PyDict_GetItemWithError(responses, k[r]);
            int has = response == NULL && PyErr_Occurred() ? -1 : has_content(resolve, response, k_content, empty);
            failed = has < 0 || (!has && report(once, rule[r], where, responses, message[r]) < 0);
        }
        if (!failed) { /* a 400, 422 or 4XX, written as a string or as a YAML number */
            int validated = 0;
            for (int i = 3; !failed && !validated && i < 6; i++) {
                validated = PyDict_Contains(responses, k[i]);
                failed = validated < 0;
            }
            Py_ssize_t position = 0;
            PyObject *status, *value;
            while (!failed && !validated && PyDict_Next(responses, &position, &status, &value)) {
                if (PyUnicode_CheckExact(status)) {
                    continue;
                }
                PyObject *text = PyObject_Str(status);
                for (int i = 3; text != NULL && !validated && i < 6; i++) {
                    validated = PyUnicode_Compare(text, k[i]) == 0;
                }
                failed = text == NULL || PyErr_Occurred();
                Py_XDECREF(text);
            }
            failed = failed || (!validated && report(once, rule[R_VALIDATION], where, responses, message[R_VALIDATION]) < 0);
        }
        Py_ssize_t position = 0;
        PyObject *status, *response;
        while (!failed && PyDict_Next(responses, &position, &status, &response)) {
            Py_INCREF(status);
            Py_INCREF(response);
            PyObject *code = PyUnicode_CheckExact(status) ? Py_NewRef(status) : PyObject_Str(status);
            PyObject *ptr = code == NULL ? NULL : join_key(where, code);
            PyObject *at = NULL;
            PyObject *resolved = ptr == NULL ? NULL : review_deref(resolve, response, ptr, &at);
            failed = resolved == NULL;
            if (!failed && PyDict_CheckExact(resolved)) {
                PyObject *headers = PyDict_GetItemWithError(resolved, k_headers);
                int is_dict = headers != NULL && PyDict_CheckExact(headers);
                failed = headers == NULL && PyErr_Occurred();
                Py_ssize_t length = PyUnicode_GET_LENGTH(code);
                Py_UCS4 first = length ? PyUnicode_READ_CHAR(code, 0) : 0;
                if (!failed && (first == '2' || first == '4')) {
                    int limited = 0; /* some set of rate-limit headers is declared in full */
                    for (Py_ssize_t s = 0; is_dict && PyDict_GET_SIZE(headers) && !failed && !limited &&
                                           s < PyTuple_GET_SIZE(rate_limit_sets);
                         s++) {
                        PyObject *iterator = PyObject_GetIter(PyTuple_GET_ITEM(rate_limit_sets, s)), *name;
                        limited = iterator != NULL;
                        while (limited && (name = PyIter_Next(iterator)) != NULL) {
                            int has = PyDict_Contains(headers, name);
                            Py_DECREF(name);
                            failed = has < 0;
                            limited = has > 0;
                        }
                        failed = failed || iterator == NULL || PyErr_Occurred();
                        Py_XDECREF(iterator);
                    }
                    if (!failed && !limited) {
                        PyObject *text = PyDict_GetItemWithError(messages, code);
                        if (text == NULL && !PyErr_Occurred()) {
                            text = PyObject_CallMethod(message[R_RATE_LIMIT], "format", "O", code);
                            if (text != NULL && PyDict_SetItem(messages, code, text) < 0) {
                                Py_CLEAR(text);
                            }
                            Py_XDECREF(text); /* the dict holds it */
                        }
                        PyObject *headers_at = text == NULL || !is_dict ? NULL : join(at, k_headers);
                        failed = text == NULL || (is_dict && headers_at == NULL) ||
                                 report(hit, rule[R_RATE_LIMIT], is_dict ? headers_at : at, is_dict ? headers : resolved,
                                        text) < 0;
                        Py_XDECREF(headers_at);
                    }
                }
                if (!failed && PyUnicode_Compare(code, k_429) == 0) {
                    int has = is_dict ? PyDict_Contains(headers, k_retry_after) : 0;
                    failed = has < 0 || (!has && report(hit, rule[R_RETRY_AFTER], at, resolved, message[R_RETRY_AFTER]) < 0);
                }
            }
            Py_XDECREF(resolved);
            Py_XDECREF(at);
            Py_XDECREF(ptr);
            Py_XDECREF(code);
            Py_DECREF(status);
            Py_DECREF(response);
        }
        Py_DECREF(entry);
    }
    for (int i = 0; i < 10; i++) {
        Py_XDECREF(k[i]);
    }
    Py_XDECREF(messages);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- body_candidates: which operations the body rules can report on ---------------------- */

typedef struct {
    PyObject *resolve, *name_facts, *privileged, *url_formats, *url_names, *secret, *leaky;
    PyObject *k_type, *k_array, *k_items, *k_properties, *k_combos[3], *k_read_only, *k_format, *k_content,
        *k_request_body, *k_responses, *k_lower, *k_schema, *empty;
} Bodies;

/* A (name, schema) property of a body schema, as the review's _collect_properties yields it. */
typedef int (*PropertyVisit)(Bodies *b, PyObject *name, PyObject *prop, void *context);

/* _collect_properties without pointers: calls visit for each top-level property (through
   `items` of an array, and allOf/oneOf/anyOf parts, 8 levels deep). visit returns 1 to stop,
   0 to go on, -1 on error; so does this. */
static int body_properties(Bodies *b, PyObject *schema, int depth, PropertyVisit visit, void *context) {
    PyObject *resolved = review_deref(b->resolve, schema, b->empty, NULL);
    if (resolved == NULL) {
        return -1;
    }
    int result = 0;
    if (depth > 8 || !PyDict_Check(resolved)) {
        Py_DECREF(resolved);
        return 0;
    }
    PyObject *kind = PyDict_GetItemWithError(resolved, b->k_type);
    int array = kind == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_RichCompareBool(kind, b->k_array, Py_EQ);
    PyObject *items = array > 0 ? PyDict_GetItemWithError(resolved, b->k_items) : NULL;
    if (array < 0 || (items == NULL && PyErr_Occurred())) {
        result = -1;
    } else if (items != NULL) {
        result = body_properties(b, items, depth + 1, visit, context);
    } else {
        PyObject *props = PyDict_GetItemWithError(resolved, b->k_properties);
        if (props == NULL && PyErr_Occurred()) {
            result = -1;
        } else if (props != NULL && PyDict_Check(props)) {
            Py_ssize_t position = 0;
            PyObject *key, *prop;
            while (result == 0 && PyDict_Next(props, &position, &key, &prop)) {
                PyObject *target = prop;
                if (PyDict_CheckExact(prop)) { /* followed only through a local ref */
                    target = review_deref(b->resolve, prop, b->empty, NULL);
                    if (target == NULL) {
                        result = -1;
                        break;
                    }
                } else {
                    Py_INCREF(target);
                }
                if (PyDict_Check(target)) {
                    PyObject *name = PyUnicode_CheckExact(key) ? Py_NewRef(key) : PyObject_Str(key);
                    result = name == NULL ? -1 : visit(b, name, target, context);
                    Py_XDECREF(name);
                }
                Py_DECREF(target);
            }
        }
        for (int c = 0; result == 0 && c < 3; c++) {
            PyObject *parts = PyDict_GetItemWithError(resolved, b->k_combos[c]);
            if (parts == NULL) {
                result = PyErr_Occurred() ? -1 : 0;
                continue;
            }
            if (!PyList_Check(parts)) {
                continue;
            }
            Py_INCREF(parts);
            for (Py_ssize_t i = 0; result == 0 && i < PyList_GET_SIZE(parts); i++) {
                result = body_properties(b, PyList_GET_ITEM(parts, i), depth + 1, visit, context);
            }
            Py_DECREF(parts);
        }
    }
    Py_DECREF(resolved);
    return result;
}

/* _request_marks: 1 when a request body's field is privileged and writable or URL-valued. */
static int request_mark(Bodies *b, PyObject *name, PyObject *prop, void *context) {
    PyObject *lowered = PyObject_CallMethodNoArgs(name, b->k_lower);
    if (lowered == NULL) {
        return -1;
    }
    int mark = PySet_Contains(b->privileged, lowered);
    if (mark > 0) { /* privileged, unless read-only */
        PyObject *read_only = PyDict_GetItemWithError(prop, b->k_read_only);
        mark = read_only == NULL ? (PyErr_Occurred() ? -1 : 1) : PyObject_IsTrue(read_only) == 0;
        if (read_only != NULL && PyErr_Occurred()) {
            mark = -1;
        }
    }
    if (mark == 0) { /* a URL: by its format, its name */
        PyObject *format = PyDict_GetItemWithError(prop, b->k_format);
        if (format == NULL && PyErr_Occurred()) {
            mark = -1;
        } else if (format != NULL) {
            mark = PySequence_Contains(b->url_formats, format); /* any value: membership only */
        }
        if (mark == 0) {
            mark = PySet_Contains(b->url_names, lowered);
        }
        if (mark == 0) {
            PyObject *facts = PyObject_CallOneArg(b->name_facts, name);
            mark = facts == NULL ? -1 : PyObject_IsTrue(PySequence_Fast_GET_ITEM(facts, 1));
            Py_XDECREF(facts);
        }
    }
    Py_DECREF(lowered);
    return mark;
}

/* 1 when a field's lower-cased name is in the set `context`. */
static int named(Bodies *b, PyObject *name, PyObject *prop, void *context) {
    PyObject *lowered = PyObject_CallMethodNoArgs(name, b->k_lower);
    int found = lowered == NULL ? -1 : PySet_Contains((PyObject *)context, lowered);
    Py_XDECREF(lowered);
    return found;
}

/* Whether `visit` stops at some property of `schema`, remembered in `cache` per schema object:
   operations share component schemas. */
static int schema_matches(Bodies *b, PyObject *schema, PropertyVisit visit, void *context, PyObject *cache) {
    PyObject *resolved = review_deref(b->resolve, schema, b->empty, NULL);
    if (resolved == NULL) {
        return -1;
    }
    PyObject *key = PyLong_FromVoidPtr(resolved);
    PyObject *known = key == NULL ? NULL : PyDict_GetItemWithError(cache, key);
    int found;
    if (known != NULL) {
        found = known == Py_True;
    } else if (key == NULL || PyErr_Occurred()) {
        found = -1;
    } else {
        found = body_properties(b, resolved, 0, visit, context);
        if (found >= 0 && PyDict_SetItem(cache, key, found ? Py_True : Py_False) < 0) {
            found = -1;
        }
    }
    Py_XDECREF(key);
    Py_DECREF(resolved); /* the cache's keys are addresses of the document's objects, alive throughout */
    return found;
}

/* 1 when some body of `content` (a content map; anything else truthy counts, so that the rules
   meet it as they would) has a property `visit` stops at. */
static int content_matches(Bodies *b, PyObject *content, PropertyVisit visit, void *context, PyObject *cache) {
    if (content == NULL) {
        return 0;
    }
    if (!PyDict_Check(content)) {
        return PyObject_IsTrue(content);
    }
    Py_ssize_t position = 0;
    PyObject *media, *media_obj;
    int found = 0;
    while (found == 0 && PyDict_Next(content, &position, &media, &media_obj)) {
        if (!PyDict_Check(media_obj)) {
            continue;
        }
        PyObject *schema = PyDict_GetItemWithError(media_obj, b->k_schema);
        if (schema == NULL && PyErr_Occurred()) {
            return -1;
        }
        found = schema_matches(b, schema ? schema : Py_None, visit, context, cache);
    }
    return found;
}

/* body_candidates(paths, resolve, name_facts, privileged, url_formats, url_names, secret, leaky)
   -> [(path, method, operation), ...]: the operations, in the body rules' order, whose request
   body (post, put, patch) has a privileged or URL-valued field, or one of whose responses has a
   body naming a secret (2xx, 3xx) or an internal detail (4xx, 5xx) field. The rules then look at
   those alone. */
static PyObject *body_candidates(PyObject *module, PyObject *args) {
    Bodies b = {0};
    PyObject *paths;
    if (!PyArg_ParseTuple(args, "OOOO!OO!O!O!:body_candidates", &paths, &b.resolve, &b.name_facts, &PySet_Type,
                          &b.privileged, &b.url_formats, &PySet_Type, &b.url_names, &PySet_Type, &b.secret,
                          &PySet_Type, &b.leaky)) {
        return NULL;
    }
    const char *texts[] = {"type", "array", "items", "properties", "allOf", "oneOf", "anyOf", "readOnly",
                           "format", "content", "requestBody", "responses", "lower", "schema", ""};
    PyObject **slots[] = {&b.k_type, &b.k_array, &b.k_items, &b.k_properties, &b.k_combos[0], &b.k_combos[1],
                          &b.k_combos[2], &b.k_read_only, &b.k_format, &b.k_content, &b.k_request_body,
                          &b.k_responses, &b.k_lower, &b.k_schema, &b.empty};
    int count = sizeof slots / sizeof *slots, failed = 0;
    for (int i = 0; !failed && i < count; i++) {
        failed = (*slots[i] = PyUnicode_InternFromString(texts[i])) == NULL;
    }
    PyObject *out = failed ? NULL : PyList_New(0);
    PyObject *requests = out == NULL ? NULL : PyDict_New(), *secrets = requests == NULL ? NULL : PyDict_New();
    PyObject *leaks = secrets == NULL ? NULL : PyDict_New();
    PyObject *names[METHOD_COUNT] = {NULL};
    failed = leaks == NULL;
    for (int i = 0; !failed && i < METHOD_COUNT; i++) {
        failed = (names[i] = PyUnicode_InternFromString(http_methods[i])) == NULL;
    }
    Py_ssize_t position = 0;
    PyObject *path, *item;
    while (!failed && PyDict_Check(paths) && PyDict_Next(paths, &position, &path, &item)) {
        if (!PyDict_Check(item)) {
            continue;
        }
        for (int method = 0; !failed && method < METHOD_COUNT; method++) {
            PyObject *name = names[method];
            PyObject *operation = PyDict_GetItemWithError(item, name);
            int candidate = 0;
            if (operation == NULL || !PyDict_Check(operation)) {
                failed = PyErr_Occurred() != NULL;
                continue;
            }
            Py_INCREF(operation);
            if (method == 1 || method == 2 || method == 6) { /* put, post, patch */
                PyObject *raw = PyDict_GetItemWithError(operation, b.k_request_body);
                PyObject *request = raw == NULL && PyErr_Occurred() ? NULL : review_deref(b.resolve, raw ? raw : Py_None, b.empty, NULL);
                if (request == NULL) {
                    failed = 1;
                } else {
                    if (PyDict_Check(request)) {
                        PyObject *content = PyDict_GetItemWithError(request, b.k_content);
                        candidate = content == NULL && PyErr_Occurred() ? -1 : content_matches(&b, content, request_mark, NULL, requests);
                    }
                    Py_DECREF(request);
                }
            }
            PyObject *responses = failed || candidate ? NULL : PyDict_GetItemWithError(operation, b.k_responses);
            Py_ssize_t at_response = 0;
            PyObject *status, *response;
            while (!failed && candidate == 0 && responses != NULL && PyDict_Check(responses) &&
                   PyDict_Next(responses, &at_response, &status, &response)) {
                PyObject *code = PyUnicode_CheckExact(status) ? Py_NewRef(status) : PyObject_Str(status);
                Py_UCS4 kind = code != NULL && PyUnicode_GET_LENGTH(code) ? PyUnicode_READ_CHAR(code, 0) : 0;
                Py_XDECREF(code);
                if (code == NULL) {
                    failed = 1;
                    break;
                }
                if (kind < '2' || kind > '5') {
                    continue;
                }
                PyObject *resolved = review_deref(b.resolve, response, b.empty, NULL);
                if (resolved == NULL) {
                    failed = 1;
                    break;
                }
                if (PyDict_Check(resolved)) {
                    PyObject *content = PyDict_GetItemWithError(resolved, b.k_content);
                    PyObject *wanted = kind <= '3' ? b.secret : b.leaky;
                    candidate = content == NULL && PyErr_Occurred() ? -1
                                                                    : content_matches(&b, content, named, wanted, kind <= '3' ? secrets : leaks);
                }
                Py_DECREF(resolved);
            }
            failed = failed || candidate < 0 || PyErr_Occurred();
            if (!failed && candidate) {
                PyObject *text = PyUnicode_CheckExact(path) ? Py_NewRef(path) : PyObject_Str(path);
                PyObject *entry = text == NULL ? NULL : PyTuple_Pack(3, text, name, operation);
                failed = entry == NULL || PyList_Append(out, entry) < 0;
                Py_XDECREF(entry);
                Py_XDECREF(text);
            }
            Py_DECREF(operation);
        }
    }
    for (int i = 0; i < count; i++) {
        Py_XDECREF(*slots[i]);
    }
    for (int i = 0; i < METHOD_COUNT; i++) {
        Py_XDECREF(names[i]);
    }
    Py_XDECREF(requests);
    Py_XDECREF(secrets);
    Py_XDECREF(leaks);
    if (failed) {
        Py_XDECREF(out);
        return NULL;
    }
    return out;
}

/* parameter_flags(parameters, cache, resolve, name_facts, is_get) -> [(index, facts), ...]: the
   parameters of an operation worth reporting, as the review's _python_parameter_flags finds
   them; facts = (name, an integer id, a URL, a page size without a maximum), kept in `cache` by
   the (resolved) parameter object's id. */
static PyObject *parameter_facts(PyObject *resolved, PyObject *resolve, PyObject *name_facts) {
    static PyObject *k_name, *k_schema, *k_type, *k_integer, *k_maximum, *k_enum, *empty;
    if (k_name == NULL) {
        if ((k_name = PyUnicode_InternFromString("name")) == NULL || (k_schema = PyUnicode_InternFromString("schema")) == NULL ||
            (k_type = PyUnicode_InternFromString("type")) == NULL ||
            (k_integer = PyUnicode_InternFromString("integer")) == NULL ||
            (k_maximum = PyUnicode_InternFromString("maximum")) == NULL ||
            (k_enum = PyUnicode_InternFromString("enum")) == NULL || (empty = PyUnicode_InternFromString("")) == NULL) {
            return NULL;
        }
    }
    PyObject *name = PyDict_Check(resolved) ? PyDict_GetItemWithError(resolved, k_name) : NULL;
    if (name == NULL || !PyUnicode_Check(name)) {
        return PyErr_Occurred() ? NULL : Py_BuildValue("(OOOO)", empty, Py_False, Py_False, Py_False);
    }
    PyObject *facts = PyObject_CallOneArg(name_facts, name);
    if (facts == NULL) {
        return NULL;
    }
    if (!PyTuple_Check(facts) || PyTuple_GET_SIZE(facts) != 3) {
        Py_DECREF(facts);
        PyErr_SetString(PyExc_TypeError, "name_facts returns three flags");
        return NULL;
    }
    int id_like = PyObject_IsTrue(PyTuple_GET_ITEM(facts, 0)), url = PyObject_IsTrue(PyTuple_GET_ITEM(facts, 1));
    int page_size = PyObject_IsTrue(PyTuple_GET_ITEM(facts, 2));
    Py_DECREF(facts);
    int numeric = 0, unbounded = 0;
    if (id_like > 0 || page_size > 0) {
        PyObject *raw = PyDict_GetItemWithError(resolved, k_schema);
        PyObject *schema = raw == NULL && PyErr_Occurred() ? NULL : review_deref(resolve, raw ? raw : Py_None, empty, NULL);
        if (schema == NULL) {
            return NULL;
        }
        if (PyDict_Check(schema)) {
            if (id_like > 0) {
                PyObject *kind = PyDict_GetItemWithError(schema, k_type);
                numeric = kind == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_RichCompareBool(kind, k_integer, Py_EQ);
            }
            if (page_size > 0 && numeric >= 0) {
                int bounded = PyDict_Contains(schema, k_maximum);
                int listed = bounded == 0 ? PyDict_Contains(schema, k_enum) : 0;
                unbounded = bounded < 0 || listed < 0 ? -1 : !bounded && !listed;
            }
        }
        Py_DECREF(schema);
    }
    if (id_like < 0 || url < 0 || page_size < 0 || numeric < 0 || unbounded < 0) {
        return NULL;
    }
    return Py_BuildValue("(OOOO)", name, numeric ? Py_True : Py_False, url ? Py_True : Py_False,
                         unbounded ? Py_True : Py_False);
}

static PyObject *parameter_flags_of(PyObject *parameters, PyObject *cache, PyObject *resolve, PyObject *name_facts,
                                    int is_get) {
    static PyObject *k_ref;
    if (k_ref == NULL && (k_ref = PyUnicode_InternFromString("$ref")) == NULL) {
        return NULL;
    }
    PyObject *out = PyList_New(0);
    for (Py_ssize_t index = 0; out != NULL && index < PyList_GET_SIZE(parameters); index++) {
        PyObject *param = PyList_GET_ITEM(parameters, index), *resolved;
        int has_ref = PyDict_CheckExact(param) ? PyDict_Contains(param, k_ref) : 0;
        if (has_ref < 0) {
            Py_CLEAR(out);
            break;
        }
        resolved = has_ref ? review_deref(resolve, param, param, NULL) : Py_NewRef(param);
        PyObject *key = resolved == NULL ? NULL : PyLong_FromVoidPtr(resolved);
        PyObject *facts = key == NULL ? NULL : Py_XNewRef(PyDict_GetItemWithError(cache, key));
        if (facts == NULL && key != NULL && !PyErr_Occurred()) {
            facts = parameter_facts(resolved, resolve, name_facts);
            if (facts != NULL && PyDict_SetItem(cache, key, facts) < 0) {
                Py_CLEAR(facts);
            }
        }
        int flagged = facts == NULL ? -1 : 0;
        for (int i = 1; flagged == 0 && i <= 3; i++) {
            flagged = PyObject_IsTrue(PyTuple_GET_ITEM(facts, i));
            if (i == 3 && flagged > 0) {
                flagged = is_get;
            }
        }
        PyObject *entry = flagged > 0 ? Py_BuildValue("(nO)", index, facts) : NULL;
        if (flagged < 0 || (flagged > 0 && (entry == NULL || PyList_Append(out, entry) < 0))) {
            Py_CLEAR(out);
        }
        Py_XDECREF(entry);
        Py_XDECREF(facts);
        Py_XDECREF(key);
        Py_XDECREF(resolved);
    }
    return out;
}

static PyObject *parameter_flags(PyObject *module, PyObject *args) {
    PyObject *parameters, *cache, *resolve, *name_facts;
    int is_get;
    if (!PyArg_ParseTuple(args, "O!O!OOp:parameter_flags", &PyList_Type, &parameters, &PyDict_Type, &cache, &resolve,
                          &name_facts, &is_get)) {
        return NULL;
    }
    return parameter_flags_of(parameters, cache, resolve, name_facts, is_get);
}

/* operation_checks(paths, root_security, hit, rules, unauthenticated, parameter_facts, resolve,
                    name_facts, is_webhook, rest)
   The security review's walk of every operation: an operation that no security covers gets
   hit(rules[0] for a write or rules[1] for a read, where, node, METHOD + " " + path +
   unauthenticated) at its `security` (declared) or at itself; and every operation with more to
   look at calls rest(path, method, item, item_ptr, op_ptr, operation, webhook): a security list
   (anonymous callers, what admin paths share), a read declared public with `security: []`, a
   parameter worth reporting (parameter_flags, facts kept in parameter_facts), `deprecated:
   true`, or an unauthenticated operation under a path is_webhook(path) says takes webhooks.
   The review's Python loop does the same, calling rest for every operation. */
static PyObject *operation_checks(PyObject *module, PyObject *args) {
    PyObject *paths, *root_security, *hit, *rules, *suffix, *facts_cache, *resolve, *name_facts, *is_webhook, *rest;
    if (!PyArg_ParseTuple(args, "OOOO!UO!OOOO:operation_checks", &paths, &root_security, &hit, &PyTuple_Type, &rules,
                          &suffix, &PyDict_Type, &facts_cache, &resolve, &name_facts, &is_webhook, &rest)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(rules) != 2) {
        PyErr_SetString(PyExc_TypeError, "rules is (write rule, read rule)");
        return NULL;
    }
    if (!PyDict_Check(paths)) {
        Py_RETURN_NONE;
    }
    PyObject *names[METHOD_COUNT] = {NULL}, *labels[METHOD_COUNT] = {NULL};
    PyObject *k_security = PyUnicode_InternFromString("security"), *k_parameters = PyUnicode_InternFromString("parameters");
    PyObject *k_deprecated = PyUnicode_InternFromString("deprecated"), *paths_ptr = PyUnicode_FromString("/paths");
    PyObject *space = PyUnicode_FromString(" ");
    int failed = !k_security || !k_parameters || !k_deprecated || !paths_ptr || !space;
    for (int i = 0; !failed && i < METHOD_COUNT; i++) {
        names[i] = PyUnicode_InternFromString(http_methods[i]);
        labels[i] = names[i] == NULL ? NULL : PyObject_CallMethod(names[i], "upper", NULL);
        failed = labels[i] == NULL;
    }
    Py_ssize_t position = 0;
    PyObject *raw_path, *item;
    while (!failed && PyDict_Next(paths, &position, &raw_path, &item)) {
        if (!PyDict_Check(item)) {
            continue;
        }
        Py_INCREF(item);
        PyObject *path = PyUnicode_CheckExact(raw_path) ? Py_NewRef(raw_path) : PyObject_Str(raw_path);
        PyObject *item_ptr = path == NULL ? NULL : join_key(paths_ptr, path);
        PyObject *verdict = item_ptr == NULL ? NULL : PyObject_CallOneArg(is_webhook, path);
        int webhook = verdict == NULL ? -1 : PyObject_IsTrue(verdict);
        Py_XDECREF(verdict);
        PyObject *raw_shared = webhook < 0 ? NULL : PyDict_GetItemWithError(item, k_parameters);
        int shared_true = raw_shared == NULL ? 0 : PyObject_IsTrue(raw_shared);
        PyObject *shared = webhook < 0 || PyErr_Occurred() || shared_true < 0 ? NULL
                           : shared_true                                   ? PySequence_List(raw_shared)
                                                                           : PyList_New(0);
        failed = shared == NULL;
        for (int method = 0; !failed && method < METHOD_COUNT; method++) {
            PyObject *operation = PyDict_GetItemWithError(item, names[method]);
            if (operation == NULL || !PyDict_Check(operation)) {
                failed = PyErr_Occurred() != NULL;
                continue;
            }
            Py_INCREF(operation);
            PyObject *op_ptr = join(item_ptr, names[method]);
            PyObject *own_security = op_ptr == NULL ? NULL : PyDict_GetItemWithError(operation, k_security);
            int declared = own_security != NULL;
            PyObject *security = declared ? own_security : root_security;
            int secured = op_ptr == NULL || PyErr_Occurred() ? -1 : PyObject_IsTrue(security);
            int write = method == 1 || method == 2 || method == 6 || method == 3; /* put post patch delete */
            int read = method == 0 || method == 5;                                /* get head */
            int public_read = read && declared && PyList_Check(security) && PyList_GET_SIZE(security) == 0;
            int more = secured < 0 ? -1 : PyList_Check(security) || (!secured && public_read);
            if (secured == 0 && (write || (read && !public_read))) {
                PyObject *where = declared ? join(op_ptr, k_security) : Py_NewRef(op_ptr);
                PyObject *node = declared ? security : operation;
                if (!PyDict_Check(node) && !PyList_Check(node)) {
                    node = Py_None;
                }
                PyObject *head = where == NULL ? NULL : PyUnicode_Concat(labels[method], space);
                PyObject *middle = head == NULL ? NULL : PyUnicode_Concat(head, path);
                PyObject *message = middle == NULL ? NULL : PyUnicode_Concat(middle, suffix);
                more = message == NULL || report(hit, PyTuple_GET_ITEM(rules, write ? 0 : 1), where, node, message) < 0 ? -1 : more;
                Py_XDECREF(where);
                Py_XDECREF(head);
                Py_XDECREF(middle);
                Py_XDECREF(message);
            }
            if (more == 0 && webhook && !secured) {
                more = 1;
            }
            if (more == 0) {
                PyObject *flag = PyDict_GetItemWithError(operation, k_deprecated);
                more = flag == Py_True ? 1 : PyErr_Occurred() ? -1 : 0;
            }
            if (more == 0) { /* a parameter worth reporting */
                PyObject *own = PyDict_GetItemWithError(operation, k_parameters);
                int own_true = own == NULL ? (PyErr_Occurred() ? -1 : 0) : PyObject_IsTrue(own);
                PyObject *parameters = own_true < 0 ? NULL : PyList_GetSlice(shared, 0, PyList_GET_SIZE(shared));
                PyObject *extra = parameters == NULL || !own_true ? NULL : PySequence_List(own);
                if (parameters != NULL && own_true && (extra == NULL || PyList_SetSlice(parameters, PyList_GET_SIZE(parameters),
                                                                                        PyList_GET_SIZE(parameters), extra) < 0)) {
                    Py_CLEAR(parameters);
                }
                PyObject *flagged = parameters == NULL ? NULL
                                                       : parameter_flags_of(parameters, facts_cache, resolve, name_facts, method == 0);
                more = flagged == NULL ? -1 : PyList_GET_SIZE(flagged) > 0;
                Py_XDECREF(extra);
                Py_XDECREF(parameters);
                Py_XDECREF(flagged);
            }
            if (more > 0) {
                PyObject *call_args[7] = {path,   names[method], item, item_ptr, op_ptr,
                                          operation, webhook ? Py_True : Py_False};
                PyObject *done = PyObject_Vectorcall(rest, call_args, 7, NULL);
                more = done == NULL ? -1 : 0;
                Py_XDECREF(done);
            }
            failed = more < 0;
            Py_XDECREF(op_ptr);
            Py_DECREF(operation);
        }
        Py_XDECREF(shared);
        Py_XDECREF(item_ptr);
        Py_XDECREF(path);
        Py_DECREF(item);
    }
    for (int i = 0; i < METHOD_COUNT; i++) {
        Py_XDECREF(names[i]);
        Py_XDECREF(labels[i]);
    }
    Py_XDECREF(k_security);
    Py_XDECREF(k_parameters);
    Py_XDECREF(k_deprecated);
    Py_XDECREF(paths_ptr);
    Py_XDECREF(space);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}
