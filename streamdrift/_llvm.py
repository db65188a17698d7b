"""LLVM intrinsics for the JIT kernels: a fused multiply-add, a prefetch, and 512-bit vectors.

Numba's cache checks only the file a kernel is defined in, so a kernel file that uses these
names the hash of this file (``LLVM``, checked by a test against ``llvm_hash()``): changing
this file makes every such kernel file change too, and recompile.
"""

import hashlib
from pathlib import Path

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def llvm_hash() -> str:
    """What the kernel files' ``LLVM`` must be: the first 12 hex digits of this file's SHA-256."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


@intrinsic
def muladd(typingctx, a, b, c):
    """``a * b + c``, fused where the CPU has FMA (one rounding), else two roundings: LLVM's ``fmuladd``."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f64, [f64, f64, f64]), "llvm.fmuladd.f64")
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def prefetch(typingctx, array, index):
    """Ask for the cache line of ``array[index]`` (in bounds) ahead of its use, without waiting for it:
    LLVM's ``prefetch`` (a read, kept in every cache level; nothing where the CPU has no such instruction)."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [byte], fnty)  # named for LLVM's pointer type
        builder.call(fn, [builder.bitcast(builder.gep(data, [args[1]]), byte), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def wide(typingctx):
    """Let LLVM vectorise the calling kernel with 512-bit vectors where the CPU has them (AVX-512; LLVM's
    own choice there is 256 bits): two attributes of this one function, so the process's other numba
    code keeps its defaults, and CPUs without AVX-512 keep the widest vectors they have."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        attributes = builder.function.attributes
        for attribute in ('"prefer-vector-width"="512"', '"min-legal-vector-width"="512"'):
            set.add(attributes, attribute)  # (llvmlite's own add() takes only the attributes it names)
        return context.get_dummy_value()

    return sig, codegen
