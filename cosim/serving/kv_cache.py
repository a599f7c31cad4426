"""Paged KV cache of one instance (vLLM's block manager, reduced to counts) and the time to move KV over a link.

The cache is a pool of ``total_blocks`` blocks of ``block_tokens`` tokens. A request holds whole blocks; its block
table is kept as a count by its scheduler (which blocks they are does not change any cost), so the pool is a pair of
integers and memory stays flat however many requests pass. ``watermark`` keeps a fraction of the blocks free at
admission, as vLLM does, so running requests can grow a little before anyone is preempted.
"""

from __future__ import annotations

from cosim.errors import CosimInputError
from cosim.serving.spec import LinkSpec


class KVCache:
    """Block pool of one instance: ``capacity_tokens`` of KV cache in blocks of ``block_tokens`` tokens."""

    def __init__(self, capacity_tokens: int, block_tokens: int, watermark: float = 0.01) -> None:
        if block_tokens < 1:
            raise CosimInputError(f"block_tokens must be >= 1, got {block_tokens}")
        self.block_tokens = int(block_tokens)
        self.total_blocks = int(capacity_tokens) // self.block_tokens
        if self.total_blocks < 1:
            raise CosimInputError(f"the instance has room for {capacity_tokens} KV tokens, less than one block of "
                                  f"{block_tokens}: the model's weights leave no KV cache on this hardware")
        self.free_blocks = self.total_blocks
        self.watermark_blocks = int(watermark * self.total_blocks)

    @property
    def used_blocks(self) -> int:
        """Blocks held by requests."""
        return self.total_blocks - self.free_blocks

    @property
    def capacity_tokens(self) -> int:
        """Tokens the whole pool holds."""
        return self.total_blocks * self.block_tokens

    @property
    def used_tokens(self) -> int:
        """Tokens of the allocated blocks (whole blocks: what the cache cannot give to anyone else)."""
        return self.used_blocks * self.block_tokens

    def blocks_for(self, tokens: int) -> int:
        """Blocks that hold ``tokens`` tokens."""
        return -(-int(tokens) // self.block_tokens)

    def fits(self, tokens: int) -> bool:
        """Whether one request of ``tokens`` tokens could ever be held (else it can never run here)."""
        return self.blocks_for(tokens) <= self.total_blocks

    def can_allocate(self, blocks: int, watermark: bool = True) -> bool:
        """Whether ``blocks`` are free, keeping the watermark free when ``watermark`` (admission of new work)."""
        return self.free_blocks - blocks >= (self.watermark_blocks if watermark else 0)

    def allocate(self, blocks: int) -> None:
        """Take ``blocks`` from the pool (more than are free is a bug of the caller)."""
        if blocks > self.free_blocks:
            raise RuntimeError(f"allocating {blocks} KV blocks with {self.free_blocks} free")
        self.free_blocks -= int(blocks)

    def free(self, blocks: int) -> None:
        """Return ``blocks`` to the pool."""
        if blocks > self.used_blocks:
            raise RuntimeError(f"freeing {blocks} KV blocks with {self.used_blocks} in use")
        self.free_blocks += int(blocks)


def link_transfer_s(link: LinkSpec, nbytes: float) -> float:
    """Seconds to move ``nbytes`` over ``link``: its latency plus bytes over its bandwidth (GB/s, 1e9 B/s)."""
    if link.bandwidth_gbps is None:
        raise CosimInputError(f"link {link.preset!r} has no bandwidth_gbps; give the link's bandwidth_gbps")
    return link.latency_s + nbytes / (link.bandwidth_gbps * 1e9)
