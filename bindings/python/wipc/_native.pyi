# The SWIG extension wipc._native: the C functions of wipc.h under their C names and the helpers of
# wipcpy.h. Only the package's modules call it; its functions are typed loosely on purpose (the
# public, typed API is the package's).
from typing import Any

def __getattr__(name: str) -> Any: ...
