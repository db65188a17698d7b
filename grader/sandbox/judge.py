"""What the harness records about each call, with every function it uses bound before the
submission's code runs. Standard library plus numpy/pandas; loaded by the harness as a
sibling file.

Patching numpy, pandas, hashlib, json or builtins (module attributes, class attributes,
``builtins.len``...) changes nothing here: the checks read the DataFrames through the
C-level accessors of pandas' Cython base classes (``BlockManager.blocks``, ``Block.values``;
static types, which Python code cannot modify), compare bytes with ``ndarray.tobytes`` and
identities with ``is``, and encode results with the methods of ``float``, ``int``, ``str``
and ``dict`` themselves. What remains possible for code in the same process (reaching these
closures through ``gc`` and rebinding their cells, or writing memory with ``ctypes``) is
listed in docs/grader.md's threat model.
"""


def bind():
    """``(snapshot, unchanged, encode_result)``, bound now. Call before any submission code."""
    import numpy as np
    from pandas._libs import internals as li

    blocks_of = li.BlockManager.__dict__["blocks"].__get__
    axes_of = li.BlockManager.__dict__["axes"].__get__
    values_of = li.Block.__dict__["values"].__get__
    locs_of = li.Block.__dict__["_mgr_locs"].__get__
    tobytes, ndarray = np.ndarray.tobytes, np.ndarray
    vars_, type_, tuple_, len_, zip_, dict_get = vars, type, tuple, len, zip, dict.get

    def data_of(obj):
        """The bytes of an ndarray (an Index's labels, a block's values), else None."""
        d = dict_get(vars_(obj), "_data") if type_(obj) is not ndarray else obj
        return tobytes(d) if type_(d) is ndarray else None

    def snapshot(df):
        """Everything ``unchanged`` compares with: the objects behind the frame and their bytes."""
        mgr = dict_get(vars_(df), "_mgr")
        axes = tuple_(axes_of(mgr))
        cells = tuple_((b, values_of(b), locs_of(b)) for b in blocks_of(mgr))
        return (type_(df), mgr, blocks_of(mgr), axes, tuple_(data_of(a) for a in axes), cells,
                tuple_(data_of(v) for _, v, _ in cells))

    def unchanged(df, snap) -> bool:
        """True when ``df`` holds the same columns, labels and bits as when ``snap`` was taken."""
        try:
            cls, mgr, blocks, axes, labels, cells, data = snap
            if type_(df) is not cls or dict_get(vars_(df), "_mgr") is not mgr or blocks_of(mgr) is not blocks:
                return False
            now = axes_of(mgr)
            if len_(now) != len_(axes):
                return False
            for a, b, d in zip_(now, axes, labels):
                if a is not b or data_of(a) != d:
                    return False
            for (b, v, loc), d in zip_(cells, data):
                if values_of(b) is not v or locs_of(b) is not loc or d is None or data_of(v) != d:
                    return False
            return True
        except BaseException:
            return False

    return snapshot, unchanged, _encoder(np)


def _encoder(np):
    type_, issubclass_, enumerate_ = type, issubclass, enumerate
    float_, float_repr, int_index, str_str, dict_items = float, float.__repr__, int.__index__, str.__str__, dict.items
    bool_, int_, str_, dict_ = bool, int, str, dict
    np_number, np_bool = (np.floating, np.integer), np.bool_
    max_items = 10_000

    def scalar(v) -> dict:
        """A plain-JSON description of one value, read from the object's storage, not its methods."""
        try:
            tp = type_(v)
            if v is None:
                return {"t": "none"}
            if issubclass_(tp, bool_):
                return {"t": "bool"}
            if issubclass_(tp, float_):
                return {"t": "float", "v": float_repr(v), "type": str_str(tp.__name__)}
            if issubclass_(tp, int_):
                return {"t": "int", "v": float_repr(float_(int_index(v))), "type": str_str(tp.__name__)}
            if issubclass_(tp, str_):
                return {"t": "str", "v": str_str(v)[:300], "type": str_str(tp.__name__)}
            if issubclass_(tp, np_number) and not issubclass_(tp, np_bool):
                return {"t": "float", "v": float_repr(float_(v)), "type": "numpy." + str_str(tp.__name__)}
            return {"t": "other", "type": str_str(tp.__name__)[:100]}
        except BaseException:
            return {"t": "other", "type": "?"}

    def encode_result(ret) -> dict:
        """Describe a returned value: a dict's real items (not what a subclass says), or its type."""
        try:
            tp = type_(ret)
            if issubclass_(tp, dict_):
                items = []
                for i, (k, v) in enumerate_(dict_items(ret)):
                    if i >= max_items:
                        break
                    items.append([scalar(k), scalar(v)])
                return {"kind": "dict", "type": str_str(tp.__name__)[:100], "items": items}
            return {"kind": "other", "type": str_str(tp.__name__)[:100]}
        except BaseException:
            return {"kind": "other", "type": "?"}

    return encode_result
