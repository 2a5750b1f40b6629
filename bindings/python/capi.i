/* The private module salus._capi: the public C header, wrapped by SWIG, plus
 * the few helpers that move numpy arrays in and out of libsalus without
 * copying them. The public package (salus/) is pure Python on top of it.
 *
 * Conventions of this module:
 *  - a function returning a libsalus code raises salus.Error (through the
 *    factory set with set_error_factory) when it is negative, and otherwise
 *    returns its output parameters, or None;
 *  - the GIL is released around every call into libsalus (swig -threads),
 *    except in the helpers marked %nothread, which release it themselves
 *    around what blocks. */
%module(package="salus") _capi

%{
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <salus/salus.h>

#include <string.h>
%}

%include <stdint.i>

%init %{
    import_array();
%}

/* ---- errors ------------------------------------------------------------- */

%{
/* salus._errors.error_from_code, set at import: builds the exception. */
static PyObject *salus_error_factory = NULL;

/* Sets the salus.Error of code with message. */
static void salus_raise_message(int code, const char *message) {
    if (!salus_error_factory) {
        PyErr_Format(PyExc_RuntimeError, "libsalus error %d: %s", code, message);
        return;
    }
    PyObject *exc = PyObject_CallFunction(salus_error_factory, "is", code, message);
    if (!exc) return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

/* Sets a salus.Error for code and this thread's last libsalus message. */
static void salus_raise(int code) {
    salus_raise_message(code, salus_last_error());
}
%}

%nothread set_error_factory;
%inline %{
/* Registers the callable (code, message) -> exception used for every error. */
void set_error_factory(PyObject *factory) {
    Py_XINCREF(factory);
    Py_XDECREF(salus_error_factory);
    salus_error_factory = factory;
}
%}

/* Functions returning a libsalus code: raise when negative. */
%typemap(out) int SALUS_RC {
    if ($1 < 0) {
        salus_raise($1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}
%apply int SALUS_RC {
    int salus_graph_new, int salus_graph_add_input, int salus_graph_add_variable,
    int salus_graph_add_constant, int salus_graph_add_node, int salus_graph_set_attr_int,
    int salus_graph_set_attr_float, int salus_graph_set_attr_ints,
    int salus_graph_set_attr_floats, int salus_graph_set_attr_string,
    int salus_graph_add_output, int salus_session_close, int salus_set_policy,
    int salus_get_status, int client_connect, int session_open, int salus_graph_tensor_shape,
    int salus_graph_check_node, int salus_session_add_graph
};

/* salus_pending_poll: 0 or 1, or a code. */
%typemap(out) int salus_pending_poll {
    if ($1 < 0) {
        salus_raise($1);
        SWIG_fail;
    }
    $result = PyBool_FromLong($1);
}

/* ---- output parameters ---------------------------------------------------- */

%define SALUS_HANDLE_OUT(TYPE)
%typemap(in, numinputs = 0) TYPE **out (TYPE *temp = NULL) "$1 = &temp;";
%typemap(argout) TYPE **out {
    $result = SWIG_Python_AppendOutput(
        $result, SWIG_NewPointerObj(temp$argnum, $descriptor(TYPE *), 0));
}
%enddef
SALUS_HANDLE_OUT(salus_graph)
SALUS_HANDLE_OUT(salus_client)
SALUS_HANDLE_OUT(salus_session)

%typemap(in, numinputs = 0)
    uint32_t *out_id (uint32_t temp = 0), uint32_t *out_node (uint32_t temp = 0),
    uint32_t *index (uint32_t temp = 0) "$1 = &temp;";
%typemap(argout) uint32_t *out_id, uint32_t *out_node, uint32_t *index {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLong(temp$argnum));
}

/* salus_graph_tensor_shape: returns (dtype code, shape tuple). */
%typemap(in, numinputs = 0) (salus_dtype *dtype, int64_t *shape, size_t *rank)
    (salus_dtype dtype_temp = SALUS_DTYPE_F32, int64_t shape_temp[SALUS_MAX_RANK],
     size_t rank_temp = 0) {
    $1 = &dtype_temp;
    $2 = shape_temp;
    $3 = &rank_temp;
}
%typemap(argout) (salus_dtype *dtype, int64_t *shape, size_t *rank) {
    PyObject *dims = PyTuple_New((Py_ssize_t)rank_temp$argnum);
    if (!dims) SWIG_fail;
    for (size_t i = 0; i < rank_temp$argnum; ++i) {
        PyTuple_SET_ITEM(dims, (Py_ssize_t)i, PyLong_FromLongLong(shape_temp$argnum[i]));
    }
    $result = SWIG_Python_AppendOutput($result, PyLong_FromLong(dtype_temp$argnum));
    $result = SWIG_Python_AppendOutput($result, dims);
}

/* A new salus_status owned by Python. */
%typemap(in, numinputs = 0) salus_status *out (salus_status *temp = NULL) {
    temp = (salus_status *)calloc(1, sizeof(salus_status));
    if (!temp) SWIG_exception_fail(SWIG_MemoryError, "out of memory");
    $1 = temp;
}
%typemap(argout) salus_status *out {
    $result = SWIG_Python_AppendOutput(
        $result, SWIG_NewPointerObj(temp$argnum, $descriptor(salus_status *), SWIG_POINTER_OWN));
    temp$argnum = NULL;
}
%typemap(freearg) salus_status *out "free(temp$argnum);";

/* ---- arrays in ------------------------------------------------------------- */

%{
/* Copies a sequence of Python ints into a new array; NULL with an error set. */
static int64_t *salus_int64s(PyObject *seq, size_t *n) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of ints");
    if (!fast) return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    int64_t *values = (int64_t *)malloc((size_t)(len > 0 ? len : 1) * sizeof(int64_t));
    if (!values) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; ++i) {
        values[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
        if (values[i] == -1 && PyErr_Occurred()) {
            free(values);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    *n = (size_t)len;
    return values;
}
%}

%typemap(in) (const int64_t *shape, size_t rank), (const int64_t *values, size_t n) {
    $1 = salus_int64s($input, &$2);
    if (!$1) SWIG_fail;
}
%typemap(freearg) (const int64_t *shape, size_t rank), (const int64_t *values, size_t n)
    "free($1);";

%typemap(in) (const double *values, size_t n) {
    PyObject *fast = PySequence_Fast($input, "expected a sequence of floats");
    if (!fast) SWIG_fail;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    $1 = (double *)malloc((size_t)(len > 0 ? len : 1) * sizeof(double));
    $2 = (size_t)len;
    for (Py_ssize_t i = 0; $1 && i < len; ++i) {
        $1[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
    }
    Py_DECREF(fast);
    if (!$1) SWIG_exception_fail(SWIG_MemoryError, "out of memory");
    if (PyErr_Occurred()) SWIG_fail;
}
%typemap(freearg) (const double *values, size_t n) "free($1);";

%typemap(in) (const uint32_t *inputs, size_t n_inputs) {
    size_t n = 0;
    int64_t *ids = salus_int64s($input, &n);
    if (!ids) SWIG_fail;
    $1 = (uint32_t *)malloc((n > 0 ? n : 1) * sizeof(uint32_t));
    for (size_t i = 0; $1 && i < n; ++i) $1[i] = (uint32_t)ids[i];
    free(ids);
    if (!$1) SWIG_exception_fail(SWIG_MemoryError, "out of memory");
    $2 = n;
}
%typemap(freearg) (const uint32_t *inputs, size_t n_inputs) "free($1);";

/* A node's outputs: their count in, their ids out as a list. */
%typemap(in) (size_t n_outputs, uint32_t *out_ids) {
    long n = PyLong_AsLong($input);
    if (n == -1 && PyErr_Occurred()) SWIG_fail;
    if (n < 0 || n > 64) SWIG_exception_fail(SWIG_ValueError, "n_outputs out of range");
    $1 = (size_t)n;
    $2 = (uint32_t *)calloc((size_t)(n > 0 ? n : 1), sizeof(uint32_t));
    if (!$2) SWIG_exception_fail(SWIG_MemoryError, "out of memory");
}
%typemap(argout) (size_t n_outputs, uint32_t *out_ids) {
    /* A tuple, so that out_node appended after it stays apart. */
    PyObject *ids = PyTuple_New((Py_ssize_t)$1);
    if (!ids) SWIG_fail;
    for (size_t i = 0; i < $1; ++i) {
        PyTuple_SET_ITEM(ids, (Py_ssize_t)i, PyLong_FromUnsignedLong($2[i]));
    }
    $result = SWIG_Python_AppendOutput($result, ids);
}
%typemap(freearg) (size_t n_outputs, uint32_t *out_ids) "free($2);";

/* Initial values of variables and constants: any C-contiguous buffer. */
%typemap(arginit) (const void *data, size_t nbytes) "view$argnum.obj = NULL;";
%typemap(in) (const void *data, size_t nbytes) (Py_buffer view) {
    if ($input == Py_None) { /* no data: a variable that starts at zero */
        $1 = NULL;
        $2 = 0;
    } else {
        if (PyObject_GetBuffer($input, &view, PyBUF_C_CONTIGUOUS) != 0) SWIG_fail;
        $1 = view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(freearg) (const void *data, size_t nbytes) {
    if (view$argnum.obj) PyBuffer_Release(&view$argnum);
}

/* ---- what is wrapped --------------------------------------------------------- */

/* Replaced by the helpers below, which take and give numpy arrays, connect
 * and open sessions from plain arguments, and own their option structs. */
%ignore salus_connect_options_init;
%ignore salus_connect;
%ignore salus_default_socket_path;
%ignore salus_session_options_init;
%ignore salus_session_create;
%ignore salus_tensor_new;
%ignore salus_tensor_wrap;
%ignore salus_tensor_free;
%ignore salus_tensor_dtype;
%ignore salus_tensor_rank;
%ignore salus_tensor_dim;
%ignore salus_tensor_nbytes;
%ignore salus_tensor_data;
%ignore salus_tensor_const_data;
%ignore salus_graph_export;
%ignore salus_buffer_free;
%ignore salus_session_run;
%ignore salus_session_submit;
%ignore salus_session_run_graph;
%ignore salus_session_submit_graph;
%ignore salus_session_read_variables;
%ignore salus_session_write_variables;
%ignore salus_pending_wait;
%ignore salus_list_sessions;
%ignore salus_connect_options;
%ignore salus_session_options;

%include <salus/salus.h>

/* ---- helpers ----------------------------------------------------------------- */

%{
/* What numpy calls each salus dtype; bf16 travels as its raw uint16 bits. */
static int salus_npy_type(int dtype) {
    switch (dtype) {
    case SALUS_DTYPE_F32: return NPY_FLOAT32;
    case SALUS_DTYPE_F16: return NPY_FLOAT16;
    case SALUS_DTYPE_BF16: return NPY_UINT16;
    case SALUS_DTYPE_I32: return NPY_INT32;
    case SALUS_DTYPE_I64: return NPY_INT64;
    case SALUS_DTYPE_BOOL: return NPY_BOOL;
    case SALUS_DTYPE_F64: return NPY_FLOAT64;
    default: return -1;
    }
}

static void salus_capsule_free_tensor(PyObject *capsule) {
    salus_tensor_free((salus_tensor *)PyCapsule_GetPointer(capsule, "salus_tensor"));
}

/* A numpy array over the tensor's memory, owning the tensor: no copy. On
 * failure frees the tensor and returns NULL with an error set. */
static PyObject *salus_array_from_tensor(salus_tensor *t) {
    npy_intp dims[SALUS_MAX_RANK];
    const int rank = (int)salus_tensor_rank(t);
    for (int i = 0; i < rank; ++i) dims[i] = (npy_intp)salus_tensor_dim(t, (size_t)i);
    const int type = salus_npy_type((int)salus_tensor_dtype(t));
    PyObject *capsule = PyCapsule_New(t, "salus_tensor", salus_capsule_free_tensor);
    if (!capsule) {
        salus_tensor_free(t);
        return NULL;
    }
    if (type < 0) {
        Py_DECREF(capsule);
        return PyErr_Format(PyExc_TypeError, "the daemon returned a tensor of unknown dtype");
    }
    PyObject *array = PyArray_New(&PyArray_Type, rank, dims, type, NULL, salus_tensor_data(t), 0,
                                  NPY_ARRAY_CARRAY, NULL);
    if (!array) {
        Py_DECREF(capsule);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)array, capsule) != 0) {
        Py_DECREF(array); /* the base was stolen even on failure */
        return NULL;
    }
    return array;
}

/* The session pointer held in box[0] (a one-item list; None once closed). */
static salus_session *salus_boxed_session(PyObject *box) {
    const int boxed = PyList_Check(box) && PyList_GET_SIZE(box) == 1;
    PyObject *item = boxed ? PyList_GET_ITEM(box, 0) : NULL;
    void *ptr = NULL;
    if (!item || item == Py_None) {
        salus_raise_message(SALUS_ENOSESSION, "the session is closed");
        return NULL;
    }
    if (!SWIG_IsOK(SWIG_ConvertPtr(item, &ptr, SWIGTYPE_p_salus_session, 0)) || !ptr) {
        PyErr_SetString(PyExc_TypeError, "not a session handle");
        return NULL;
    }
    return (salus_session *)ptr;
}

/* Wraps arrays[0..n) (C-contiguous numpy arrays whose items are the size of
 * dtypes[i]) as tensor views into tensors[], without copying them. Returns
 * how many were made; fewer than n with a Python error set. */
static Py_ssize_t salus_wrap_arrays(PyObject *dtypes, PyObject *arrays, Py_ssize_t n,
                                    salus_tensor **tensors) {
    Py_ssize_t made = 0;
    for (; made < n; ++made) {
        PyObject *a = PyTuple_GET_ITEM(arrays, made);
        const long dtype = PyLong_AsLong(PyTuple_GET_ITEM(dtypes, made));
        if (PyErr_Occurred()) return made;
        const int type = salus_npy_type((int)dtype);
        if (!PyArray_Check(a) || type < 0 || !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)a) ||
            !PyArray_ISNOTSWAPPED((PyArrayObject *)a) ||
            !PyArray_EquivTypenums(PyArray_TYPE((PyArrayObject *)a), type)) {
            PyErr_Format(PyExc_TypeError,
                         "input %zd is not a C-contiguous native-endian array of its dtype", made);
            return made;
        }
        PyArrayObject *arr = (PyArrayObject *)a;
        int64_t shape[SALUS_MAX_RANK];
        const int rank = PyArray_NDIM(arr);
        if (rank > SALUS_MAX_RANK) {
            char message[96];
            snprintf(message, sizeof message, "input %zd has rank %d, over the maximum of %d",
                     made, rank, SALUS_MAX_RANK);
            salus_raise_message(SALUS_ESHAPE, message);
            return made;
        }
        for (int d = 0; d < rank; ++d) shape[d] = (int64_t)PyArray_DIM(arr, d);
        const int rc = salus_tensor_wrap((salus_dtype)dtype, shape, (size_t)rank, PyArray_DATA(arr),
                                         (size_t)PyArray_NBYTES(arr), &tensors[made]);
        if (rc < 0) {
            salus_raise(rc);
            return made;
        }
    }
    return made;
}

/* Submits one iteration of graph `graph`: arrays[i] feed ids[i] through
 * views, without copying them. Runs with the GIL held, so that the session
 * cannot be closed in between (see Session.close) and the arrays cannot
 * change; the request is copied into the frame before this returns. */
static salus_pending *salus_submit_arrays(PyObject *box, unsigned int graph, PyObject *ids,
                                          PyObject *dtypes, PyObject *arrays) {
    salus_session *session = salus_boxed_session(box);
    if (!session) return NULL;
    const Py_ssize_t n = PyTuple_Check(arrays) ? PyTuple_GET_SIZE(arrays) : -1;
    if (n < 0 || !PyTuple_Check(ids) || !PyTuple_Check(dtypes) || PyTuple_GET_SIZE(ids) != n ||
        PyTuple_GET_SIZE(dtypes) != n || n > 4096) {
        PyErr_SetString(PyExc_TypeError, "ids, dtypes and arrays must be tuples of one length");
        return NULL;
    }
    uint32_t id_buf[16];
    salus_tensor *tensor_buf[16];
    uint32_t *input_ids = n <= 16 ? id_buf : (uint32_t *)malloc((size_t)n * sizeof(uint32_t));
    salus_tensor **tensors =
        n <= 16 ? tensor_buf : (salus_tensor **)calloc((size_t)n, sizeof(salus_tensor *));
    salus_pending *pending = NULL;
    Py_ssize_t made = 0;
    if (!input_ids || !tensors) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; ++i) {
        input_ids[i] = (uint32_t)PyLong_AsUnsignedLong(PyTuple_GET_ITEM(ids, i));
        if (PyErr_Occurred()) goto done;
    }
    made = salus_wrap_arrays(dtypes, arrays, n, tensors);
    if (made == n) {
        const salus_tensor *const *inputs = (const salus_tensor *const *)tensors;
        const int rc =
            salus_session_submit_graph(session, graph, input_ids, inputs, (size_t)n, &pending);
        if (rc < 0) salus_raise(rc);
    }
done:
    for (Py_ssize_t i = 0; tensors && i < made; ++i) salus_tensor_free(tensors[i]);
    if (input_ids != id_buf) free(input_ids);
    if (tensors != tensor_buf) free(tensors);
    return pending;
}

/* names as an array of UTF-8 strings that live as long as the tuple; NULL
 * with an error set when it is not a tuple of str. Free with free(). */
static const char **salus_name_array(PyObject *names, Py_ssize_t *n) {
    *n = PyTuple_Check(names) ? PyTuple_GET_SIZE(names) : -1;
    if (*n < 0) {
        PyErr_SetString(PyExc_TypeError, "names must be a tuple of str");
        return NULL;
    }
    const char **out = (const char **)calloc((size_t)*n + 1, sizeof(char *));
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; ++i) {
        out[i] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));
        if (!out[i]) {
            free(out);
            return NULL;
        }
    }
    return out;
}

/* Takes the result of a pending iteration whose result has arrived (it does
 * not block then): a dict of names[i] to output i when names is a tuple,
 * else a tuple of arrays. */
static PyObject *salus_take_outputs(salus_pending *pending, Py_ssize_t n_outputs, PyObject *names) {
    salus_tensor *out_buf[16];
    salus_tensor **outputs = n_outputs <= 16 ? out_buf
                                             : (salus_tensor **)calloc((size_t)n_outputs,
                                                                       sizeof(salus_tensor *));
    if (!outputs) return PyErr_NoMemory();
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = salus_pending_wait(pending, outputs, (size_t)n_outputs);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    const int as_dict = PyTuple_Check(names) && PyTuple_GET_SIZE(names) == n_outputs;
    if (rc < 0) {
        salus_raise(rc);
    } else if ((result = as_dict ? PyDict_New() : PyTuple_New(n_outputs)) != NULL) {
        for (Py_ssize_t i = 0; i < n_outputs; ++i) {
            PyObject *array = salus_array_from_tensor(outputs[i]);
            outputs[i] = NULL;
            if (!array) {
                Py_CLEAR(result);
                break;
            }
            if (!as_dict) {
                PyTuple_SET_ITEM(result, i, array);
                continue;
            }
            const int failed = PyDict_SetItem(result, PyTuple_GET_ITEM(names, i), array);
            Py_DECREF(array);
            if (failed) {
                Py_CLEAR(result);
                break;
            }
        }
    }
    if (rc >= 0) {
        for (Py_ssize_t i = 0; i < n_outputs; ++i) salus_tensor_free(outputs[i]);
    }
    if (outputs != out_buf) free(outputs);
    return result;
}

/* Waits for the result in slices of slice_ms with the GIL released, running
 * Python's signal handlers between slices so that Ctrl-C interrupts a long
 * iteration. 0 when the result is in, -1 with an error set. */
static int salus_await(salus_pending *pending, int slice_ms) {
    for (;;) {
        int ready;
        Py_BEGIN_ALLOW_THREADS
        ready = salus_pending_poll(pending, slice_ms);
        Py_END_ALLOW_THREADS
        if (ready < 0) {
            salus_raise(ready);
            return -1;
        }
        if (ready) return 0;
        if (PyErr_CheckSignals() != 0) return -1;
    }
}
%}

%nothread run_arrays;
%nothread submit_arrays;
%nothread read_variables;
%nothread write_variables;
%nothread take_outputs;
%nothread list_sessions;
%nothread default_socket_path;
%typemap(out) salus_pending *submit_arrays {
    if (!$1) SWIG_fail;
    $result = SWIG_NewPointerObj($1, $descriptor(salus_pending *), 0);
}
%inline %{
/* One iteration, synchronously: feeds the arrays, waits (interruptibly) and
 * returns the outputs, arrays over the received tensors: a dict by the names
 * when names is a tuple of them, else a tuple. */
PyObject *run_arrays(PyObject *box, unsigned int graph, PyObject *ids, PyObject *dtypes,
                     PyObject *arrays, int n_outputs, PyObject *names, int slice_ms) {
    salus_pending *pending = salus_submit_arrays(box, graph, ids, dtypes, arrays);
    if (!pending) return NULL;
    PyObject *result = NULL;
    if (salus_await(pending, slice_ms) == 0) result = salus_take_outputs(pending, n_outputs, names);
    salus_pending_free(pending);
    return result;
}

/* Queues one iteration; the handle goes to salus_pending_poll, take_outputs
 * and salus_pending_free. */
salus_pending *submit_arrays(PyObject *box, unsigned int graph, PyObject *ids, PyObject *dtypes,
                             PyObject *arrays) {
    return salus_submit_arrays(box, graph, ids, dtypes, arrays);
}

/* The values of the named variables, a tuple of arrays over the received
 * tensors, after the iterations submitted before. The caller holds the
 * session's close lock: the GIL is released while the daemon answers. */
PyObject *read_variables(PyObject *box, PyObject *names) {
    salus_session *session = salus_boxed_session(box);
    if (!session) return NULL;
    Py_ssize_t n = 0;
    const char **cnames = salus_name_array(names, &n);
    if (!cnames) return NULL;
    salus_tensor **values = (salus_tensor **)calloc((size_t)n + 1, sizeof(salus_tensor *));
    if (!values) {
        free(cnames);
        return PyErr_NoMemory();
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = salus_session_read_variables(session, cnames, (size_t)n, values);
    Py_END_ALLOW_THREADS
    free(cnames);
    PyObject *result = NULL;
    if (rc < 0) {
        salus_raise(rc);
    } else if ((result = PyTuple_New(n)) != NULL) {
        for (Py_ssize_t i = 0; i < n; ++i) {
            PyObject *array = values[i] ? salus_array_from_tensor(values[i]) : NULL;
            values[i] = NULL;
            if (!array) {
                Py_CLEAR(result);
                for (Py_ssize_t j = i + 1; j < n; ++j) salus_tensor_free(values[j]);
                break;
            }
            PyTuple_SET_ITEM(result, i, array);
        }
    }
    free(values);
    return result;
}

/* Writes arrays[i] (dtypes[i], as for submit_arrays) into variable names[i],
 * after the iterations submitted before and before those after. */
PyObject *write_variables(PyObject *box, PyObject *names, PyObject *dtypes, PyObject *arrays) {
    salus_session *session = salus_boxed_session(box);
    if (!session) return NULL;
    Py_ssize_t n = 0;
    const char **cnames = salus_name_array(names, &n);
    if (!cnames) return NULL;
    if (!PyTuple_Check(arrays) || !PyTuple_Check(dtypes) || PyTuple_GET_SIZE(arrays) != n ||
        PyTuple_GET_SIZE(dtypes) != n) {
        free(cnames);
        PyErr_SetString(PyExc_TypeError, "names, dtypes and arrays must be tuples of one length");
        return NULL;
    }
    salus_tensor **tensors = (salus_tensor **)calloc((size_t)n + 1, sizeof(salus_tensor *));
    if (!tensors) {
        free(cnames);
        return PyErr_NoMemory();
    }
    const Py_ssize_t made = salus_wrap_arrays(dtypes, arrays, n, tensors);
    int rc = 0;
    if (made == n) {
        /* The caller holds the arrays (and the session's close lock). */
        Py_BEGIN_ALLOW_THREADS
        rc = salus_session_write_variables(session, cnames, (const salus_tensor *const *)tensors,
                                           (size_t)n);
        Py_END_ALLOW_THREADS
        if (rc < 0) salus_raise(rc);
    }
    for (Py_ssize_t i = 0; i < made; ++i) salus_tensor_free(tensors[i]);
    free(tensors);
    free(cnames);
    if (made != n || rc < 0) return NULL;
    Py_RETURN_NONE;
}

/* The outputs of a submitted iteration as a tuple, waiting for them
 * interruptibly. */
PyObject *take_outputs(salus_pending *pending, int n_outputs, int slice_ms) {
    if (!pending) return PyErr_Format(PyExc_ValueError, "pending is NULL");
    if (salus_await(pending, slice_ms) != 0) return NULL;
    return salus_take_outputs(pending, n_outputs, Py_None);
}

/* Every session the daemon lists, as salus_session_info objects. */
PyObject *list_sessions(salus_client *client) {
    size_t count = 0, max = 0;
    salus_session_info *infos = NULL;
    int rc;
    /* Sessions may come between the two calls: ask until they all fit. */
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        rc = salus_list_sessions(client, infos, max, &count);
        Py_END_ALLOW_THREADS
        if (rc < 0 || count <= max) break;
        free(infos);
        max = count + 8;
        infos = (salus_session_info *)calloc(max, sizeof(salus_session_info));
        if (!infos) return PyErr_NoMemory();
    }
    if (rc < 0) {
        free(infos);
        salus_raise(rc);
        return NULL;
    }
    PyObject *list = PyList_New((Py_ssize_t)count);
    for (size_t i = 0; list && i < count; ++i) {
        salus_session_info *copy = (salus_session_info *)malloc(sizeof(salus_session_info));
        if (!copy) {
            Py_CLEAR(list);
            PyErr_NoMemory();
            break;
        }
        *copy = infos[i];
        PyList_SET_ITEM(list, (Py_ssize_t)i,
                        SWIG_NewPointerObj(copy, SWIGTYPE_p_salus_session_info, SWIG_POINTER_OWN));
    }
    free(infos);
    return list;
}

/* Connects to socket_path (None: $SALUS_SOCKET, else the default path). */
int client_connect(const char *socket_path, const char *client_name, salus_client **out) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    opts.client_name = client_name;
    return salus_connect(&opts, out);
}

/* Sends the graph and waits until the daemon admits the session. */
int session_open(salus_client *client, const salus_graph *graph, const char *name,
                 uint64_t declared_iterations, int32_t priority, double weight,
                 uint64_t seed, salus_session **out) {
    salus_session_options opts;
    salus_session_options_init(&opts, SALUS_SESSION_OPTIONS_VERSION);
    opts.name = name;
    opts.declared_iterations = declared_iterations;
    opts.priority = priority;
    opts.weight = weight;
    opts.seed = seed;
    return salus_session_create(client, graph, &opts, out);
}

/* The default socket path ($SALUS_SOCKET is not consulted). */
PyObject *default_socket_path(void) {
    char path[4096];
    const int rc = salus_default_socket_path(path, sizeof path);
    if (rc < 0) {
        salus_raise(rc);
        return NULL;
    }
    return PyUnicode_DecodeFSDefault(path);
}
%}
