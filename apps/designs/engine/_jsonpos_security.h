/* responses_rules(...): the security review's checks of every `responses` object, compiled.
   Included by _jsonpos.c. apps/security/engine/review.py has the same loop in Python
   (`_python_responses_rules`) and the tests hold both to the same calls. */

/* The review's _deref: follows local refs (`#/...`, at most 32 hops); returns the target (new
   reference) and sets *where (new reference) to where it is written. */
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
        PyObject *at = PyUnicode_Substring(ref, 1, PyUnicode_GET_LENGTH(ref));
        PyObject *next = at == NULL ? NULL : PyObject_CallOneArg(resolve, ref);
        if (next == NULL) {
            Py_XDECREF(at);
            goto error;
        }
        Py_SETREF(ptr, at);
        Py_SETREF(node, next);
    }
    *where = ptr;
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
    PyObject *where;
    PyObject *resolved = review_deref(resolve, response, empty, &where);
    if (resolved == NULL) {
        return -1;
    }
    Py_DECREF(where);
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
