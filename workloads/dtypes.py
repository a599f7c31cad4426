"""Datatype names and their widths in bits."""

DTYPE_BITS: dict[str, int] = {
    "fp64": 64,
    "fp32": 32,
    "tf32": 32,
    "fp16": 16,
    "bf16": 16,
    "fp8": 8,
    "int8": 8,
    "int4": 4,
}


def dtype_bits(name: str) -> int:
    """Bits of a datatype name; raises ValueError naming the allowed names."""
    try:
        return DTYPE_BITS[name]
    except KeyError:
        raise ValueError(f"unknown datatype {name!r}; allowed: {', '.join(DTYPE_BITS)}") from None
