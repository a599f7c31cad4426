"""The paged KV block pool and link transfer times."""

import pytest

from cosim.errors import CosimInputError
from cosim.serving.kv_cache import KVCache, link_transfer_s
from cosim.serving.spec import LinkSpec


def test_blocks_are_whole_and_counted():
    cache = KVCache(capacity_tokens=1000, block_tokens=16, watermark=0.1)
    assert cache.total_blocks == 62 and cache.capacity_tokens == 992 and cache.watermark_blocks == 6
    assert [cache.blocks_for(t) for t in (0, 1, 16, 17, 32)] == [0, 1, 1, 2, 2]
    assert cache.fits(992) and not cache.fits(993)
    cache.allocate(50)
    assert cache.free_blocks == 12 and cache.used_tokens == 800
    assert cache.can_allocate(6) and not cache.can_allocate(7)  # the watermark stays free at admission
    assert cache.can_allocate(12, watermark=False) and not cache.can_allocate(13, watermark=False)
    cache.free(50)
    assert cache.free_blocks == 62


def test_over_allocation_and_double_free_are_errors():
    cache = KVCache(64, 16)
    with pytest.raises(RuntimeError):
        cache.allocate(5)
    cache.allocate(4)
    with pytest.raises(RuntimeError):
        cache.free(5)


def test_a_cache_smaller_than_a_block_is_an_input_error():
    with pytest.raises(CosimInputError, match="less than one block"):
        KVCache(10, 16)


def test_link_time_is_latency_plus_bytes_over_bandwidth():
    assert link_transfer_s(LinkSpec(bandwidth_gbps=25.0, latency_s=1e-5), 5e9) == pytest.approx(0.20001)
    with pytest.raises(CosimInputError, match="bandwidth_gbps"):
        link_transfer_s(LinkSpec(preset="nvlink"), 1.0)
